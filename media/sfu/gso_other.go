//go:build !linux

package sfu

var gsoAvailable = false

func gsoControl(b []byte, size int) []byte { return nil }
