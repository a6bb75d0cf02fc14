package sfu_test

import (
	"log"

	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/sfu"
)

// The hub records every stream of a room: each stream published there,
// now or later, gets the recorder as one more downstream; the SFU closes
// the recorder's track writers (sealing their segments) when a stream
// ends.
func ExampleSFU_Watch() {
	s, err := sfu.New(sfu.Options{Network: sfu.Network{UDPAddr: ":8189"}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var rec *record.Recorder // record.Start(…) for the room
	room := sfu.Key{Site: "hq", Room: "court-1"}
	cancel := s.Watch(func(st *sfu.Stream) {
		if st.Key().Site != room.Site || st.Key().Room != room.Room {
			return
		}
		_, err := st.Attach(sfu.DownstreamFunc(func(t *sfu.Track) (sfu.Sink, error) {
			i := t.Info()
			return rec.AddTrack(record.Track{
				ID: st.Key().Name + "-" + i.ID, MimeType: i.MimeType, ClockRate: i.ClockRate,
				Channels: i.Channels, RequestKeyframe: t.RequestKeyframe,
			})
		}))
		if err != nil {
			log.Print(err) // the stream ended meanwhile
		}
	})
	defer cancel() // stop recording new streams
}
