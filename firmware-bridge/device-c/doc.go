// Package devicec holds the portable C99 implementation of the device side of the
// firmware-bridge frame codec (src/bailiff_frame.h, src/bailiff_frame.c), for the microcontrollers of
// call buttons, tally lights and signs, and of the firmware update state machine
// (src/bailiff_update.h, src/bailiff_update.c, with SHA-256). It has no Go code: its test compiles the C unit tests
// in test/ with gcc (-Wall -Wextra -Werror -std=c99 -pedantic), runs them, and cross-checks the
// C codec with the Go one (firmware-bridge/frame) on the golden table both ways, and the C SHA-256
// and signed manifest bytes with Go's (firmware-bridge/ota).
//
// The protocol is docs/FIRMWARE-PROTOCOL.md.
package devicec
