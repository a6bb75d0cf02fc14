//go:build tools

// Package tools pins modules that driver packages are about to use, so that go mod tidy keeps
// their versions while the packages land. It is never built.
package tools

import (
	_ "github.com/gen2brain/malgo"
	_ "github.com/kerberos-io/onvif"
	_ "periph.io/x/conn/v3/gpio"
	_ "periph.io/x/host/v3"
)
