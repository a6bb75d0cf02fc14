package audiosim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	// An audio input has no address, so no transport: o.Transport is ignored (the demo
	// derives it from the device's address, and an empty address parses as tcp).
	simreg.Register("audio", func(o simreg.Options) (simreg.Sim, error) {
		cfg := Config{Name: o.ID, Logger: o.Logger}
		// Write the file in the format the device's options ask, so the driver takes it.
		for key, dst := range map[string]*int{"sample_rate": &cfg.SampleRate, "channels": &cfg.Channels} {
			if v := o.Options[key]; v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("option %s %q: %w", key, v, err)
				}
				*dst = n
			}
		}
		if o.Fast {
			cfg.Duration = time.Second // less to write
		}
		return New(cfg)
	})
}
