package extron_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/extron"
	"github.com/bailiff/bailiff/drivers/extron/extronsim"
	"github.com/bailiff/bailiff/drivers/transport"
)

func Example() {
	sim := extronsim.New(extronsim.Config{Inputs: 8, Outputs: 4, Password: "secret"})
	addr, err := sim.Listen("127.0.0.1:0") // or sim.ListenPTY() for "serial:/dev/pts/N"
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	s := extron.New(extron.Dial(addr, transport.Options{}), extron.Options{Password: "secret"})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := s.Route(ctx, "1", "3", "av"); err != nil { // sends 1*3!, gets Out03 In01 All
		panic(err)
	}
	if err := s.Route(ctx, "7", "4", "video"); err != nil { // 7*4%
		panic(err)
	}
	st, err := s.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["model"], st["video"], st["audio"])
	// Output: CrossPoint Sim map[1:0 2:0 3:1 4:7] map[1:0 2:0 3:1 4:0]
}
