package config

import (
	"strings"
	"testing"
)

func TestAddressForms(t *testing.T) {
	Drivers["test-cam"] = DriverSpec{DefaultPort: 1259, UDPPort: 52381, Address: []string{AddressSerial, AddressUDP, AddressTCP}}
	Drivers["test-pins"] = DriverSpec{Address: []string{AddressNone}}
	defer delete(Drivers, "test-cam")
	defer delete(Drivers, "test-pins")
	for _, c := range []struct{ driver, addr, err string }{
		{"test-cam", "serial:/dev/ttyUSB0", ""},
		{"test-cam", "/dev/ttyS0", ""},
		{"test-cam", "udp://10.0.0.7", ""},
		{"test-cam", "udp://10.0.0.7:52381", ""},
		{"test-cam", "tcp://10.0.0.7:1259", ""},
		{"test-cam", "10.0.0.7", ""},
		{"test-cam", "serial:ttyUSB0", "want a serial device path"},
		{"test-cam", "", "required: serial:/dev/…, or udp://host:port, or host:port (TCP)"},
		{"test-cam", "udp://10.0.0.7:99999", "port"},
		{"pjlink", "serial:/dev/ttyUSB0", "driver pjlink does not take a serial address; want host:port (TCP)"},
		{"pjlink", "udp://1.2.3.4", "does not take a udp address"},
		{"test-pins", "", ""},
		{"test-pins", "1.2.3.4", "driver test-pins does not take a tcp address; want no address"},
	} {
		r := DefaultRoom()
		r.Site, r.Room, r.Kind, r.Name = "s", "r", KindTechCourtroom, "R"
		r.Devices = []Device{{ID: "d", Driver: c.driver, Address: c.addr}}
		err := r.Validate()
		if c.err == "" {
			if err != nil {
				t.Errorf("%s %q: %v", c.driver, c.addr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s %q: error %v, want %q", c.driver, c.addr, err, c.err)
		}
	}
}
