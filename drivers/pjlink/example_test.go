package pjlink_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink"
	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
)

func Example() {
	sim := pjlinksim.New(pjlinksim.Config{Password: "secret", Name: "Courtroom 3"})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	p := pjlink.New(pjlink.DialTCP(addr), pjlink.Options{Password: "secret"})
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := p.SetPower(ctx, true); err != nil {
		panic(err)
	}
	if err := p.SetInput(ctx, "digital1"); err != nil {
		panic(err)
	}
	st, err := p.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["name"], st["power"], st["input"])
	// Output: Courtroom 3 on 31
}
