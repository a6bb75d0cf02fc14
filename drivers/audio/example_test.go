package audio_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"

	"github.com/bailiff/bailiff/drivers/audio"
	"github.com/bailiff/bailiff/drivers/audio/audiosim"
)

// A full-scale sine reads −3.01 dBFS RMS and 0 dBFS peak.
func ExampleMeter() {
	const rate = 48000
	frame := make([]float32, rate/10) // 100 ms, mono
	for i := range frame {
		frame[i] = float32(math.Sin(2 * math.Pi * 1000 * float64(i) / rate))
	}
	m := audio.NewMeter(1, len(frame))
	m.Add(frame, func(rms, peak []float64) {
		fmt.Printf("RMS %.2f dBFS, peak %.2f dBFS\n", rms[0], peak[0])
	})
	m.Add(make([]float32, len(frame)), func(rms, peak []float64) {
		fmt.Printf("silence: RMS %.0f dBFS, peak %.0f dBFS\n", rms[0], peak[0])
	})
	// Output:
	// RMS -3.01 dBFS, peak 0.00 dBFS
	// silence: RMS -120 dBFS, peak -120 dBFS
}

func ExampleParseWAV() {
	file, _ := audiosim.Encode(48000, 2, false, []float32{0.5, -0.5, 0.25, -0.25})
	info, err := audio.ParseWAV(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Format, info.SampleFormat, info.Frames(), "frames at offset", info.DataOffset)
	// Output: 48000 Hz, 2 ch s16 2 frames at offset 44
}

// An Input on a test tone: levels every 100 ms, a gain, and the state.
func ExampleNew() {
	levels := make(chan map[string]float64, 100)
	in := audio.New(func(context.Context) (audio.Source, error) {
		return audio.NewSynth(audio.SignalTone, audio.Format{SampleRate: 48000, Channels: 1})
	}, audio.Options{MeterRate: 100 * time.Millisecond, Notify: notifyFunc(func(l map[string]float64) { levels <- l })})
	defer in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.SetGain(ctx, "", 6); err != nil {
		panic(err)
	}
	st, err := in.Poll(ctx)
	if err != nil {
		panic(err)
	}
	l := <-levels
	fmt.Println(st["status"], st["gain_db"], l["1"], l["1/peak"])
	// Output: running 6 -17.01 -14
}

type notifyFunc func(map[string]float64)

func (f notifyFunc) Event(string, map[string]any) {}
func (f notifyFunc) Meter(l map[string]float64)   { f(l) }
func (f notifyFunc) State(map[string]any)         {}
