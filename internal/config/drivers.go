package config

// How a driver reaches its device: the forms a device's address may take (the forms of
// drivers/transport).
const (
	AddressTCP    = "tcp"    // host, host:port or tcp://host:port; DefaultPort when the port is left out
	AddressUDP    = "udp"    // udp://host[:port]; UDPPort when the port is left out
	AddressSerial = "serial" // serial:/dev/ttyUSB0 or /dev/ttyUSB0
	AddressNone   = "none"   // no address (e.g. the agent's own GPIO pins or sound card)
)

// DriverSpec is what the config needs to know about a driver to check a device that uses it.
type DriverSpec struct {
	Options     []string // option keys the driver understands; any other key is an error
	DefaultPort int      // port used when a tcp address has none (0: the port is required)
	UDPPort     int      // port used when a udp address has none
	// Address lists the forms of address the driver takes (AddressTCP, AddressUDP,
	// AddressSerial, AddressNone), the first being its usual one.
	Address []string
}

// Drivers lists every driver a room config may name. The hub never imports a driver package,
// so this table is how it (and "hub validate") knows them; a test in drivers/ checks that it
// matches the driver registry. Add a row with each new driver.
var Drivers = map[string]DriverSpec{
	"audio":      {Options: []string{"source", "device", "backend", "channels", "sample_rate", "sample_format", "file", "loop", "meter_rate_ms"}, Address: []string{AddressNone}},
	"extron":     {Options: []string{"password", "inputs", "outputs", "baud", "data_bits", "parity", "stop_bits"}, DefaultPort: 23, Address: []string{AddressTCP, AddressSerial}},
	"samsungmdc": {Options: []string{"id", "baud", "data_bits", "parity", "stop_bits"}, DefaultPort: 1515, Address: []string{AddressTCP, AddressSerial}},
	"gpio":       {Options: []string{"pin", "mode", "active_low", "debounce_ms", "pull"}, Address: []string{AddressNone}},
	"onvif":      {Options: []string{"username", "password", "profile"}, DefaultPort: 80, Address: []string{AddressTCP}},
	"visca": {Options: []string{"camera", "baud", "data_bits", "parity", "stop_bits", "max_pan_speed", "max_tilt_speed"},
		DefaultPort: 1259, UDPPort: 52381, Address: []string{AddressTCP, AddressUDP, AddressSerial}},
	"pjlink":   {Options: []string{"password"}, DefaultPort: 4352, Address: []string{AddressTCP}},
	"shure":    {Options: []string{"model", "channels", "meter_rate_ms"}, DefaultPort: 2202, Address: []string{AddressTCP}},
	"fwbridge": {Options: []string{"baud", "ping_ms", "firmware_key"}, Address: []string{AddressSerial}},
	"escpos":   {Options: []string{"width", "encoding", "baud", "data_bits", "parity", "stop_bits"}, DefaultPort: 9100, Address: []string{AddressTCP, AddressSerial}},
}
