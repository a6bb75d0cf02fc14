// Package all registers every device driver. The agent imports it for its side effects; a
// new driver package adds its blank import here.
package all

import (
	_ "github.com/bailiff/bailiff/drivers/audio"      // microphones and line inputs (malgo with cgo; WAV and synthetic sources)
	_ "github.com/bailiff/bailiff/drivers/escpos"     // ESC/POS ticket printers
	_ "github.com/bailiff/bailiff/drivers/extron"     // Extron SIS matrix switchers
	_ "github.com/bailiff/bailiff/drivers/fwbridge"   // microcontroller devices on the firmware-bridge serial protocol
	_ "github.com/bailiff/bailiff/drivers/gpio"       // relays and buttons on the agent host's GPIO pins (periph.io)
	_ "github.com/bailiff/bailiff/drivers/onvif"      // ONVIF PTZ cameras
	_ "github.com/bailiff/bailiff/drivers/pjlink"     // PJLink projectors and displays
	_ "github.com/bailiff/bailiff/drivers/samsungmdc" // Samsung MDC displays
	_ "github.com/bailiff/bailiff/drivers/shure"
	_ "github.com/bailiff/bailiff/drivers/visca" // Sony VISCA cameras over serial, VISCA over IP and TCP  // Shure MXA microphones and P300 DSPs
)
