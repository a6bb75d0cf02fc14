package gpio_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/gpio/gpiosim"

	_ "github.com/bailiff/bailiff/drivers/gpio" // registers the driver "gpio"
)

// printer prints the events a device reports.
type printer struct{ drivers.Notifier }

func (printer) Event(typ string, f map[string]any) { fmt.Println(typ, f["pin"], f["pressed"]) }
func (printer) State(drivers.State)                {}

func Example() {
	// A simulated push button, wired to ground with a pull-up: pressed is low.
	sim, err := gpiosim.New(gpiosim.Config{Name: "SIM_EXAMPLE_BUTTON", ActiveLow: true})
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	info, _ := drivers.Lookup("gpio")
	dev, err := info.New(drivers.Config{ID: "ticket-button", Notify: printer{drivers.Discard},
		Options: map[string]string{"pin": "SIM_EXAMPLE_BUTTON", "mode": "button", "active_low": "true", "pull": "up", "debounce_ms": "50"}})
	if err != nil {
		panic(err)
	}
	defer dev.Close()
	if _, err := dev.Poll(context.Background()); err != nil { // starts watching the pin
		panic(err)
	}
	sim.Click(300*time.Millisecond, true) // a press and a release, both bouncing
	time.Sleep(300 * time.Millisecond)
	// Output:
	// button SIM_EXAMPLE_BUTTON true
	// button SIM_EXAMPLE_BUTTON false
}
