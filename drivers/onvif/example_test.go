package onvif_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/onvif"
	"github.com/bailiff/bailiff/drivers/onvif/onvifsim"
)

func Example() {
	// A simulated camera whose clock is two hours off; the driver follows it.
	sim := onvifsim.New(onvifsim.Config{Username: "operator", Password: "secret", ClockSkew: 2 * time.Hour})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	cam, err := onvif.New(addr, onvif.Options{Username: "operator", Password: "secret"})
	if err != nil {
		panic(err)
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := cam.RecallPreset(ctx, 1); err != nil { // the camera's preset "1", "Judge"
		panic(err)
	}
	if err := cam.Drive(ctx, 0, 0, 0); err != nil { // 0 0 0 stops
		panic(err)
	}
	st, err := cam.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["profile"], st["pan"], st["tilt"], st["zoom"], st["moving"])
	// Output: main -0.4 0.1 0.3 false
}
