package frame_test

import (
	"bytes"
	"fmt"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

func ExampleAppendFrame() {
	b, _ := frame.AppendFrame(nil, &frame.Ping{Nonce: 0x12345678})
	fmt.Printf("% x\n", b)
	// Output: 08 03 78 56 34 12 24 2f 00
}

func ExampleReader() {
	var line bytes.Buffer
	w := frame.NewWriter(&line)
	w.Write(&frame.Event{Code: frame.EventButtonPress, Fields: []frame.Field{{Key: frame.KeyIndex, Value: 0}}})
	line.Write([]byte{0x42, 0x17, 0x00}) // noise
	w.Write(&frame.Ping{Nonce: 1})

	r := frame.NewReader(&line)
	for {
		m, err := r.Next()
		if err != nil {
			break
		}
		fmt.Printf("%s %+v\n", m.Type(), m)
	}
	fmt.Println("dropped:", r.Stats().Dropped())
	// Output:
	// event &{Code:1 Fields:[{Key:6 Value:0}]}
	// ping &{Nonce:1}
	// dropped: 1
}
