package onvif

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
)

// ErrAuth is in the chain when the camera refused the credentials: a SOAP fault
// env:Sender/ter:NotAuthorized (Core §5.12.1), a WS-Security fault such as
// wsse:FailedAuthentication, or an HTTP 401. It wraps drivers.ErrDevice.
var ErrAuth = fmt.Errorf("authentication failed (wrong or missing username or password): %w", drivers.ErrDevice)

// errGarbled marks an answer that is not a SOAP envelope carrying the expected response.
var errGarbled = errors.New("garbled reply")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("camera closed: %w", drivers.ErrUnreachable)

// garbled returns an errGarbled error saying why.
func garbled(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w", errGarbled, fmt.Sprintf(format, args...), drivers.ErrDevice)
}

// Fault is a SOAP 1.2 fault the camera answered (Core §5.11.2). Code and Subcodes hold the
// local parts of the fault's QNames ("Sender", then "InvalidArgVal", "NoToken"); Reason is
// the first reason text. It unwraps to the drivers error of the most specific code the
// driver knows (see the package documentation).
type Fault struct {
	Code     string
	Subcodes []string
	Reason   string
	Status   int // HTTP status code of the answer
}

// Codes returns the code and subcodes joined by "/", e.g. "Sender/InvalidArgVal/NoToken".
func (f *Fault) Codes() string {
	return strings.Join(append([]string{f.Code}, f.Subcodes...), "/")
}

// Has reports whether code is the fault's code or one of its subcodes (local name).
func (f *Fault) Has(code string) bool {
	if f.Code == code {
		return true
	}
	for _, s := range f.Subcodes {
		if s == code {
			return true
		}
	}
	return false
}

func (f *Fault) Error() string {
	msg := "fault " + f.Codes()
	if f.Reason != "" {
		msg += " (" + f.Reason + ")"
	}
	return msg + ": " + f.Unwrap().Error()
}

// faultKinds maps fault codes (local names) onto the drivers error they mean. A fault is
// classified by its most specific code found here, from the last subcode back to the code.
var faultKinds = map[string]error{
	// Credentials: ONVIF's own code and those of WS-Security (OASIS SOAP Message Security §12).
	"NotAuthorized":            ErrAuth,
	"FailedAuthentication":     ErrAuth,
	"InvalidSecurity":          ErrAuth,
	"InvalidSecurityToken":     ErrAuth,
	"FailedCheck":              ErrAuth,
	"SecurityTokenUnavailable": ErrAuth,
	"MessageExpired":           ErrAuth,

	// The camera does not do it.
	"ActionNotSupported":  drivers.ErrUnsupported,
	"UnknownAction":       drivers.ErrUnsupported,
	"NoPTZProfile":        drivers.ErrUnsupported,
	"PTZNotSupported":     drivers.ErrUnsupported,
	"SpaceNotSupported":   drivers.ErrUnsupported,
	"TimeoutNotSupported": drivers.ErrUnsupported,

	// Not now.
	"MovingPTZ": drivers.ErrBusy,

	// The arguments of the action. (ter:InvalidArgs, ter:MissingAttr and the like say the
	// request was malformed: the driver's fault, so a device error.)
	"InvalidArgVal":     drivers.ErrBadArgs,
	"NoToken":           drivers.ErrBadArgs,
	"InvalidPresetName": drivers.ErrBadArgs,
	"PresetExist":       drivers.ErrBadArgs,
	"InvalidVelocity":   drivers.ErrBadArgs,
	"InvalidSpeed":      drivers.ErrBadArgs,
	"InvalidPosition":   drivers.ErrBadArgs,

	// The profile the driver uses is gone (reconfigured camera): a device fault, and the
	// driver discovers the camera again.
	"NoProfile": drivers.ErrDevice,
}

// Unwrap returns the drivers error value of the fault's most specific known code;
// drivers.ErrDevice when none is known.
func (f *Fault) Unwrap() error {
	for i := len(f.Subcodes) - 1; i >= 0; i-- {
		if e, ok := faultKinds[f.Subcodes[i]]; ok {
			return e
		}
	}
	if e, ok := faultKinds[f.Code]; ok {
		return e
	}
	return drivers.ErrDevice
}

// stale reports whether the fault says that what the driver discovered no longer holds, so
// the next call discovers the camera again: a profile that is gone, or refused credentials
// (the camera's clock may have jumped).
func (f *Fault) stale() bool {
	return f.Has("NoProfile") || errors.Is(f, ErrAuth)
}

// clean makes text from the camera fit for an error message: printable, one line, short.
func clean(s string, max int) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n >= max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
