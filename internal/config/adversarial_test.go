package config_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

// TestAdversarial checks that hostile files are rejected quickly, with a bounded number of
// errors.
func TestAdversarial(t *testing.T) {
	var laughs strings.Builder
	laughs.WriteString("a: &a {password: x, p2: y, p3: z, p4: w}\n")
	laughs.WriteString("devices: &d\n")
	for i := range 2000 {
		fmt.Fprintf(&laughs, "  - {id: d%d, driver: pjlink, address: h, options: *a}\n", i)
	}
	laughs.WriteString("x: [*d, *d, *d, *d, *d, *d, *d, *d]\n")
	var many strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&many, "k%d: 1\n", i)
	}
	for name, data := range map[string]string{
		"aliases":     laughs.String(),
		"many errors": many.String(),
		"too large":   strings.Repeat("#", 1<<20+1),
		"self alias":  "devices: &a [*a, *a]\n",
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := config.ParseRoom("x.yaml", []byte(data))
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(err.(config.Errors)); n > 101 {
				t.Errorf("%d errors", n)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
