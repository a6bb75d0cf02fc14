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
		if s.Address() == "" {
			t.Errorf("%s: no address", d)
		}
		s.Close()
	}
}
