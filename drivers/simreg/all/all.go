// Package all registers every device simulator with simreg.
package all

import (
	_ "github.com/bailiff/bailiff/drivers/pjlink/pjlinksim" // PJLink projectors and displays
)
