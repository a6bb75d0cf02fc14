package shure_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers/shure"
	"github.com/bailiff/bailiff/drivers/shure/shuresim"
)

func Example() {
	sim := shuresim.New(shuresim.Config{Model: "MXA920", Channels: 2})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	mic := shure.New(shure.DialTCP(addr), shure.Options{Channels: 2})
	defer mic.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := mic.SetMute(ctx, "", true); err != nil { // the whole array, like its mute button
		panic(err)
	}
	if err := mic.SetGain(ctx, "2", -6); err != nil {
		panic(err)
	}
	st, err := mic.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(st["model"], st["mute"], st["channels"].(map[string]map[string]any)["2"]["gain_db"])
	// Output: MXA920 true -6
}
