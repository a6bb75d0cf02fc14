package fwbridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/internal/wire"
)

// BenchmarkCommand: one tally command through the driver → command frame over a pty pair →
// devsim → ack frame (the device's whole state) → the driver (no baud pacing: the code's cost).
func BenchmarkCommand(b *testing.B) {
	sim := devsim.New(devsim.Config{})
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	info, _ := drivers.Lookup("fwbridge")
	d, err := info.New(drivers.Config{ID: "t", Address: sim.Address(), Notify: drivers.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := d.Poll(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no hello")
		}
	}
	args := []*wire.TallyArgs{{Color: "red"}, {Color: "green"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := drivers.Do(ctx, d, wire.ActTally, args[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
