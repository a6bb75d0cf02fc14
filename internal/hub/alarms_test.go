package hub

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/alarms"
	"github.com/bailiff/bailiff/internal/store"
)

// A recording that stops on a write error (a full disk) raises a recording-failed alarm
// through the alarm service; acknowledging it clears it.
func TestRecordingFailureRaisesAlarm(t *testing.T) {
	room := &config.Room{Site: "court", Room: "r1", Kind: config.KindTechCourtroom, Name: "R1",
		Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)}
	h := testHub(t, t.TempDir(), room)
	defer h.Close()
	ctx := context.Background()
	rv, err := h.recs.start(ctx, "court", "r1")
	if err != nil {
		t.Fatal(err)
	}
	h.recs.failed(rv.ID, errors.New("write segment: no space left on device"))
	// The recording is closed as failed, saying why, and the room can be recorded again.
	got, err := h.recs.get(ctx, rv.ID)
	if err != nil || got.State != store.RecordingFailed || !strings.Contains(got.Error, "no space left") {
		t.Fatalf("failed recording: %+v %v", got, err)
	}
	if _, ok := h.recs.active[rv.ID]; ok {
		t.Fatal("the failed recording is still the room's running one")
	}
	again, err := h.recs.start(ctx, "court", "r1")
	if err != nil {
		t.Fatalf("recording the room again after a failure: %v", err)
	}
	defer h.recs.stop(ctx, again.ID)
	list, err := h.alarms.List(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	as := list.([]alarms.View)
	if len(as) != 1 || as[0].Kind != alarms.RecordingFailed || as[0].Room != "r1" {
		t.Fatalf("active alarms %+v, want one recording-failed", as)
	}
	if _, err := h.alarms.Ack(ctx, as[0].ID, "tech"); err != nil {
		t.Fatal(err)
	}
	if h.alarms.Active() != 0 {
		t.Fatal("the acknowledged recording alarm is still active")
	}
}
