// Package gpio drives the GPIO pins of the agent's own host through periph.io: relays (a
// recording lamp, a door strike) and push buttons (a ticket kiosk's, a judge's bench).
//
// There is no wire protocol. The documents are periph.io's: periph.io/x/conn/v3/gpio (PinIO:
// In with a pull and edge detection, Read, WaitForEdge, Out) and gpioreg (pins by name, alias
// or number), and periph.io/x/host/v3, whose host.Init registers the board's pins (the SoC's
// registers on a Raspberry Pi, the kernel's sysfs or character-device GPIO elsewhere).
//
// # Devices
//
// A device has no address; its options say which pin and what for:
//
//	pin          periph pin name ("GPIO17"), alias ("P1_11") or number; required
//	mode         relay (an output) or button (an input); required, so a button's pin is never
//	             driven by mistake
//	active_low   true: on / pressed is the low level (relay boards that pull low, a button
//	             wired to ground with a pull-up); default false
//	debounce_ms  buttons: how long a level must hold to count; 0-10000, default 20
//	pull         buttons: up, down or none (floating); default: as the board has it
//
// The factory touches neither the hardware nor the pin registry. The first call looks the
// pin up in gpioreg, where a simulator (gpiosim) or a test may have registered it; only when
// it is not there does it call host.Init, once for the process, and look again. A pin that is
// missing is drivers.ErrUnreachable, and the next call looks again.
//
// # Relays
//
// A Relay implements drivers.Relay. SetRelay drives the pin to on or off. Pulse switches it
// on and returns at once; the relay switches off by itself ms later and announces its state
// through the Notifier (the agent gives every command a deadline of a few seconds, and a door
// strike is held open longer). A SetRelay or a new Pulse replaces a pulse under way. The pin
// is not driven until the first command, so an agent restarting does not switch a lamp off;
// Close switches a pulsing relay off and leaves a steady one as it is. Poll reads the pin:
// "pin", "on", "level" ("high"/"low") and "pulsing".
//
// # Buttons
//
// A Button starts watching its pin at its first Poll (the agent polls at once): the pin is
// set as an input with the pull asked and edge detection on both edges, and a goroutine waits
// for edges with a timeout (WaitForEdge), so it notices Close; a pin without edge detection
// is sampled every 5 ms instead. Debouncing: every edge restarts a wait of debounce_ms, and
// when the wait ends the level read counts if it differs from the one that counted before —
// so a bouncing press is one press and a glitch shorter than the debounce is none. Each
// change that counts is reported as the event "button" {"pin": …, "pressed": true|false} and
// as the new state. Poll returns "pin", "pressed", "level" (the debounced level) and
// "presses" (how many presses the Button has seen).
//
// # Timeouts
//
// Reading and writing a pin does not block, so there is no exchange to time out: every call
// checks its context first, and the watcher waits for an edge at most 100 ms at a time.
//
// # Errors
//
// Every error starts with "gpio: ". A missing pin or a closed device is drivers.ErrUnreachable;
// a pin that refuses to be set (Out, In) drivers.ErrDevice; a bad option or pulse length
// drivers.ErrBadArgs.
package gpio
