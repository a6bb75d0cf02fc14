package escpos_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/escpos"
	"github.com/bailiff/bailiff/drivers/escpos/escpossim"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/wire"
)

func Example() {
	sim := escpossim.New(escpossim.Config{})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	p := escpos.New(escpos.Dial(addr, transport.Options{}), escpos.Options{})
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	err = p.Print(ctx, wire.PrintArgs{Number: "A023", Service: "Case filing", QR: "https://court.example/q/A023"})
	if err != nil {
		panic(err)
	}
	t := sim.Tickets()[0]
	fmt.Println(t.Texts()[:2], t.QRs(), t.Cut)

	sim.SetPaperOut(true)
	st, err := p.Poll(ctx)
	fmt.Println(st["paper"], err)
	// Output:
	// [Case filing A023] [https://court.example/q/A023] partial
	// out escpos: poll: paper out: device error
}
