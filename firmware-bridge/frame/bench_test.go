package frame_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

func benchChunk() *frame.UpdateChunk {
	data := make([]byte, 256)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return &frame.UpdateChunk{Offset: 4096, Data: data}
}

func BenchmarkAppendFrameChunk(b *testing.B) {
	m := benchChunk()
	buf := make([]byte, 0, frame.MaxEncoded+1)
	b.SetBytes(int64(len(m.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := frame.AppendFrame(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeChunk(b *testing.B) {
	m := benchChunk()
	enc, _ := frame.AppendFrame(nil, m)
	enc = enc[:len(enc)-1]
	b.SetBytes(int64(len(m.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := frame.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFrameState(b *testing.B) {
	m := &frame.State{Fields: []frame.Field{{Key: frame.KeyTally, Value: 1}, {Key: frame.KeyButton, Value: 0}}}
	buf := make([]byte, 0, frame.MaxEncoded+1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := frame.AppendFrame(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderChunks(b *testing.B) {
	one, _ := frame.AppendFrame(nil, benchChunk())
	stream := bytes.Repeat(one, 64)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r := frame.NewReader(bytes.NewReader(stream))
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			}
		}
	}
}
