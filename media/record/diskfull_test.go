package record

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fullDisk hands out files that share a budget of bytes, like a disk with
// that much space left: a write past it writes what fits and fails with
// ENOSPC, as write(2) does. Writing over existing bytes and truncating
// need no space.
type fullDisk struct {
	mu   sync.Mutex
	left int64
}

func (d *fullDisk) open(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &fullDiskFile{File: f, d: d}, nil
}

type fullDiskFile struct {
	*os.File
	d *fullDisk
}

func (f *fullDiskFile) Write(p []byte) (int, error) {
	f.d.mu.Lock()
	n := int64(len(p))
	if n > f.d.left {
		n = f.d.left
	}
	f.d.left -= n
	f.d.mu.Unlock()
	w, err := f.File.Write(p[:n])
	if err == nil && w < len(p) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return w, err
}

func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }

func TestDiskFull(t *testing.T) {
	video, audio := vp8Packets(t), opusPackets(t)
	for _, budget := range []int64{2000, 60_000, 150_000, 250_000} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			disk := &fullDisk{left: budget}
			alarms := make(chan error, 2)
			rec, err := Start(Options{
				Dir: dir, Key: testKey(), SegmentDuration: time.Second, QueueSize: 1 << 16, Logger: quietLogger(),
				OnError: func(err error) { alarms <- err }, open: disk.open,
			})
			if err != nil {
				if isNoSpace(err) {
					return // not even the header fit
				}
				t.Fatal(err)
			}
			vtw, err := rec.AddTrack(Track{ID: "cam1", MimeType: MimeTypeVP8})
			if err != nil {
				t.Fatal(err)
			}
			atw, err := rec.AddTrack(Track{ID: "mic1", MimeType: MimeTypeOpus})
			if err != nil {
				t.Fatal(err)
			}
			var writeErr error
			for _, tp := range paced(video, audio) {
				tw := atw
				if tp.video {
					tw = vtw
				}
				if writeErr = tw.WriteRTP(tp.p); writeErr != nil {
					break
				}
				time.Sleep(20 * time.Microsecond) // let the writers keep up, so the failure comes while feeding
			}
			closeErr := rec.Close()
			var alarm error
			select {
			case alarm = <-alarms:
			case <-time.After(5 * time.Second):
				t.Fatal("OnError was not called")
			}
			for _, err := range []error{alarm, closeErr} {
				if !isNoSpace(err) || !errors.Is(err, ErrStopped) {
					t.Errorf("want ErrStopped with ENOSPC, got %v", err)
				}
			}
			if writeErr != nil && !errors.Is(writeErr, ErrStopped) {
				t.Errorf("WriteRTP after the failure: %v", writeErr)
			}
			select {
			case err := <-alarms:
				t.Errorf("OnError called twice: %v", err)
			default:
			}

			// Nothing sealed is damaged; at most the segments being written
			// when the disk filled up are unsealed; the manifest has no
			// half line.
			pub := testKey().Public().(ed25519.PublicKey)
			rep, err := Verify(dir, pub)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("after the disk filled up:\n%s", rep)
			if rep.Tampered() {
				t.Fatalf("a full disk damaged the recording")
			}
			for _, p := range rep.Problems {
				if p.Kind == ProblemTorn {
					t.Errorf("torn manifest")
				}
			}
			sealed := 0
			for _, s := range rep.Segments {
				if !s.Sealed || s.Error != "" {
					continue
				}
				sealed++
				codec := "opus"
				if s.Kind == "video" {
					codec = "vp8"
				}
				checkSegments(t, dir, []Segment{s}, codec, 0, 0)
			}
			if budget >= 150_000 && sealed == 0 {
				t.Errorf("no whole segment was sealed before the disk filled up")
			}

			// With space again, Recover seals the rest.
			rep, err = Recover(dir, testKey())
			if err != nil || !rep.OK() {
				t.Fatalf("recover: %v\n%s", err, rep)
			}
		})
	}
}
