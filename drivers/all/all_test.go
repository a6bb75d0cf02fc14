package all

import (
	"slices"
	"sort"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/config"
)

// The hub validates room configs without importing any driver, from config.Drivers. This test
// keeps that table and the registry of the drivers the agent runs the same.
func TestConfigKnowsEveryDriver(t *testing.T) {
	names := drivers.Names()
	if !slices.Equal(names, config.DriverNames()) {
		t.Fatalf("registered drivers %v, config.Drivers %v", names, config.DriverNames())
	}
	for _, n := range names {
		info, _ := drivers.Lookup(n)
		spec := config.Drivers[n]
		a, b := append([]string(nil), info.Options...), append([]string(nil), spec.Options...)
		sort.Strings(a)
		sort.Strings(b)
		if !slices.Equal(a, b) || info.DefaultPort != spec.DefaultPort {
			t.Errorf("driver %s: registry options %v port %d, config options %v port %d", n, a, info.DefaultPort, b, spec.DefaultPort)
		}
	}
}
