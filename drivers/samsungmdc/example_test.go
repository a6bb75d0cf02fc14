package samsungmdc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/samsungmdc"
	"github.com/bailiff/bailiff/drivers/samsungmdc/mdcsim"
	"github.com/bailiff/bailiff/drivers/transport"
)

func Example() {
	sim := mdcsim.New(mdcsim.Config{ID: 1})
	addr, err := sim.Listen("127.0.0.1:0") // or sim.ListenPTY() for "serial:/dev/pts/N"
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	d := samsungmdc.New(samsungmdc.Dial(addr, transport.Options{}), samsungmdc.Options{ID: 1})
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := d.SetPower(ctx, true); err != nil {
		panic(err)
	}
	if err := d.SetInput(ctx, "hdmi2"); err != nil {
		panic(err)
	}
	if err := d.SetGain(ctx, "", -30); err != nil { // volume 70
		panic(err)
	}
	st, err := d.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["power"], st["input"], st["volume"], st["gain_db"])
	// Output: on hdmi2 70 -30
}
