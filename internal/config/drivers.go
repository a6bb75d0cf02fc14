package config

// How a driver reaches its device: the form the device's address takes.
const (
	AddressTCP    = "tcp"    // host or host:port; DefaultPort is used when the port is left out
	AddressSerial = "serial" // a serial device path, e.g. /dev/ttyUSB0 or COM3
	AddressNone   = "none"   // no address (e.g. a driver for the agent's own GPIO or audio)
)

// DriverSpec is what the config needs to know about a driver to check a device that uses it.
type DriverSpec struct {
	Options     []string // option keys the driver understands; any other key is an error
	DefaultPort int      // port used when a tcp address has none (0: the port is required)
	Address     string   // AddressTCP, AddressSerial or AddressNone
}

// Drivers lists every driver a room config may name. The hub never imports a driver package,
// so this table is how it (and "hub validate") knows them; a test in drivers/ checks that it
// matches the driver registry. Add a row with each new driver.
var Drivers = map[string]DriverSpec{
	"pjlink": {Options: []string{"password"}, DefaultPort: 4352, Address: AddressTCP},
}
