package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFirmwareRows(t *testing.T) { eachBackend(t, testFirmwareRows) }

func testFirmwareRows(t *testing.T, b backend) {
	s := b.store(t)
	ctx := context.Background()
	img := FirmwareImage{ID: "fw-1", DeviceType: "tally-light", Version: "1.0.0", Manifest: "{}", File: "firmware/fw-1.bin", UploadedBy: "tech", Created: time.UnixMilli(1000).UTC()}
	if err := s.PutFirmwareImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	dup := img
	dup.ID = "fw-2"
	if err := s.PutFirmwareImage(ctx, dup); !errors.Is(err, ErrExists) {
		t.Fatalf("same type and version again: %v", err)
	}
	if got, err := s.FirmwareImage(ctx, "fw-1"); err != nil || got != img {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := s.FirmwareImage(ctx, "fw-9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	r := FirmwareRollout{ID: "ro-1", ImageID: "fw-1", Body: `{"state":"running"}`, Created: time.UnixMilli(2000).UTC()}
	if err := s.PutFirmwareRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Body = `{"state":"done"}`
	if err := s.PutFirmwareRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	if list, err := s.FirmwareRollouts(ctx, "ro-1"); err != nil || len(list) != 1 || list[0] != r {
		t.Fatalf("rollouts %+v, %v", list, err)
	}
	if err := s.PutFirmwareRollout(ctx, FirmwareRollout{ID: "ro-2", ImageID: "fw-none", Body: "{}", Created: time.Now()}); err == nil {
		t.Fatal("a rollout of an unknown image was stored")
	}
}
