// Package all registers every device simulator with simreg.
package all

import (
	_ "github.com/bailiff/bailiff/drivers/audio/audiosim"    // microphones (WAV files)
	_ "github.com/bailiff/bailiff/drivers/escpos/escpossim"  // ESC/POS ticket printers
	_ "github.com/bailiff/bailiff/drivers/extron/extronsim"  // Extron matrix switchers
	_ "github.com/bailiff/bailiff/drivers/gpio/gpiosim"      // relays and buttons (pins in this process)
	_ "github.com/bailiff/bailiff/drivers/onvif/onvifsim"    // ONVIF PTZ cameras
	_ "github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"  // PJLink projectors and displays
	_ "github.com/bailiff/bailiff/drivers/samsungmdc/mdcsim" // Samsung displays
	_ "github.com/bailiff/bailiff/drivers/shure/shuresim"
	_ "github.com/bailiff/bailiff/drivers/visca/viscasim" // VISCA cameras   // Shure microphones and DSPs
	_ "github.com/bailiff/bailiff/firmware-bridge/devsim" // firmware-bridge devices (a tally light with a button)
)
