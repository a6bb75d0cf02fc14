package visca_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/visca"
	"github.com/bailiff/bailiff/drivers/visca/viscasim"
)

func Example() {
	sim := viscasim.New(viscasim.Config{Speed: 50})
	addr, err := sim.ListenTCP("127.0.0.1:0") // bare VISCA, as on TCP 1259
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	cam, err := visca.New(addr, visca.Options{})
	if err != nil {
		panic(err)
	}
	defer cam.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := cam.SetPower(ctx, true); err != nil {
		panic(err)
	}
	if err := cam.MoveTo(ctx, 1000, -200, 1); err != nil { // returns when the camera is there
		panic(err)
	}
	if err := cam.StorePreset(ctx, 1); err != nil {
		panic(err)
	}
	st, err := cam.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["power"], st["pan"], st["tilt"], st["model"])
	// Output: on 1000 -200 BRC-Z700
}

// Two cameras daisy-chained on one RS-232 line: each device names its address.
func Example_serial() {
	sim := viscasim.New(viscasim.Config{Cameras: 2, On: true})
	addr, err := sim.OpenSerial() // "serial:/dev/pts/N"
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for n := 1; n <= 2; n++ {
		cam, err := visca.New(addr, visca.Options{Camera: n})
		if err != nil {
			panic(err)
		}
		defer cam.Close()
		if err := cam.Drive(ctx, 0, 0, 0); err != nil {
			panic(err)
		}
		fmt.Println("camera", n, "address", sim.State(n).Address)
	}
	// Output:
	// camera 1 address 1
	// camera 2 address 2
}
