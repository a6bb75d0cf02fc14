package config

import (
	"strconv"
	"strings"
)

// FieldError is one problem in a config: where it is and what is wrong.
type FieldError struct {
	File string // the file (or name given to Parse*); "" when the value came from the environment or code
	Line int    // 1-based line in File; 0 when unknown (e.g. a required key that is missing)
	Key  string // dotted key path with list indices, e.g. "devices[2].address"; "" for the whole file
	Msg  string // what is wrong
	Env  string // the environment variable the value came from, e.g. "BAILIFF_HTTP_LISTEN"; "" if none
}

// Error renders the error as "file:line: key: message", or "env NAME: message" for a value
// taken from the environment. Parts that are unknown are left out.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("env ")
		b.WriteString(e.Env)
	default:
		b.WriteString(e.File)
		if e.Line > 0 {
			if e.File != "" {
				b.WriteByte(':')
			} else {
				b.WriteString("line ")
			}
			b.WriteString(strconv.Itoa(e.Line))
		}
		if e.Key != "" {
			if b.Len() > 0 {
				b.WriteString(": ")
			}
			b.WriteString(e.Key)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one or more config files. Error renders one per line.
// errors.As finds the Errors value itself or any one *FieldError in it.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the FieldErrors, so that errors.As and errors.Is look into them.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// err returns es as an error, or nil when es is empty (never a typed nil).
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
