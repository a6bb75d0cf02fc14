package all

import (
	"slices"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	_ "github.com/bailiff/bailiff/drivers/all"
	"github.com/bailiff/bailiff/drivers/simreg"
)

// Every driver has a simulator, so the demo and the harness can run any room.
func TestEveryDriverHasASimulator(t *testing.T) {
	if got, want := simreg.Drivers(), drivers.Names(); !slices.Equal(got, want) {
		t.Fatalf("simulators %v, drivers %v", got, want)
	}
	for _, d := range simreg.Drivers() {
		s, err := simreg.Start(d, simreg.Options{ID: "x", Name: "X", Fast: true})
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if _, ok := s.(simreg.DeviceOptions); s.Address() == "" && !ok {
			t.Errorf("%s: no address and no device options", d)
		}
		// The harness reads every simulator's state and makes each misbehave.
		if _, ok := s.(simreg.Inspector); !ok {
			t.Errorf("%s: not a simreg.Inspector", d)
		}
		if m, ok := s.(simreg.Misbehaver); !ok {
			t.Errorf("%s: not a simreg.Misbehaver", d)
		} else if err := m.SetMode("no-such-mode"); err == nil {
			t.Errorf("%s: accepted an unknown mode", d)
		} else if err := m.SetMode("normal"); err != nil {
			t.Errorf("%s: mode normal: %v", d, err)
		}
		s.Close()
	}
}
