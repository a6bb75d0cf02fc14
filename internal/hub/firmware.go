package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/ota"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
)

// firmwareDir holds the stored images, in the data directory.
const firmwareDir = "firmware"

// ErrNoFirmware: no firmware image with that ID.
var ErrNoFirmware = fmt.Errorf("no such firmware image: %w", api.ErrNotFound)

// firmware stores firmware images, each with a manifest the hub signs with its firmware key,
// and rolls them out (firmware_rollout.go).
type firmware struct {
	h    *Hub
	ctx  context.Context // ends when the hub closes
	once sync.Once
	ro   *rollouts
}

type registryEvent = registry.Event

// FirmwareView is an image as the API shows it.
type FirmwareView struct {
	ID         string       `json:"id"`
	Manifest   ota.Manifest `json:"manifest"`
	PublicKey  string       `json:"public_key"` // hex ed25519 key the manifest verifies with
	UploadedBy string       `json:"uploaded_by"`
	Created    time.Time    `json:"created"`
}

// Upload reads an image from body, signs its manifest and stores both. A body larger than
// ota.MaxImage, a bad device type or version, or a version already stored for the type is a
// bad request or a conflict; nothing is stored then.
func (f *firmware) Upload(ctx context.Context, deviceType, version, minVersion string, body io.Reader, by string) (any, error) {
	v, err := ota.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrBadRequest, err)
	}
	var minV string
	if minVersion != "" {
		mv, err := ota.ParseVersion(minVersion)
		if err != nil {
			return nil, fmt.Errorf("%w: min_version: %w", api.ErrBadRequest, err)
		}
		minV = mv.String()
	}
	dir := filepath.Join(f.h.opts.DataDir, firmwareDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	n, err := io.Copy(tmp, io.LimitReader(body, ota.MaxImage+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: read the image: %w", err)
	}
	if n > ota.MaxImage || n == 0 {
		return nil, fmt.Errorf("%w: image of %d bytes: want 1…%d", api.ErrBadRequest, n, ota.MaxImage)
	}
	image, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	m, err := ota.New(deviceType, v, image, f.h.fwKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrBadRequest, err)
	}
	if minV != "" {
		mv, _ := ota.ParseVersion(minV)
		m.MinVersion = &mv
	}
	id := newImageID()
	rel := filepath.Join(firmwareDir, id+".bin")
	if err := os.Rename(tmp.Name(), filepath.Join(f.h.opts.DataDir, rel)); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	mj, _ := json.Marshal(m)
	row := store.FirmwareImage{ID: id, DeviceType: deviceType, Version: v.String(), Manifest: string(mj), File: rel,
		UploadedBy: by, Created: time.Now().UTC()}
	if err := f.h.store.PutFirmwareImage(ctx, row); err != nil {
		os.Remove(filepath.Join(f.h.opts.DataDir, rel))
		if errors.Is(err, store.ErrExists) {
			return nil, fmt.Errorf("%w: %s %s is already stored", api.ErrConflict, deviceType, v)
		}
		return nil, err
	}
	f.h.log.Info("firmware image stored", "firmware", id, "device_type", deviceType, "version", v.String(), "size", m.Size, "by", by)
	return f.view(row)
}

func newImageID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "fw-" + hex.EncodeToString(b)
}

func (f *firmware) view(r store.FirmwareImage) (FirmwareView, error) {
	var m ota.Manifest
	if err := json.Unmarshal([]byte(r.Manifest), &m); err != nil {
		return FirmwareView{}, fmt.Errorf("firmware %s: stored manifest: %w", r.ID, err)
	}
	return FirmwareView{ID: r.ID, Manifest: m, PublicKey: hex.EncodeToString(f.h.fwKey.Public().(ed25519.PublicKey)),
		UploadedBy: r.UploadedBy, Created: r.Created}, nil
}

// List lists the stored images, newest first.
func (f *firmware) List(ctx context.Context) (any, error) {
	rows, err := f.h.store.FirmwareImages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]FirmwareView, 0, len(rows))
	for _, r := range rows {
		v, err := f.view(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get shows one image.
func (f *firmware) Get(ctx context.Context, id string) (any, error) {
	r, err := f.row(ctx, id)
	if err != nil {
		return nil, err
	}
	return f.view(r)
}

func (f *firmware) row(ctx context.Context, id string) (store.FirmwareImage, error) {
	r, err := f.h.store.FirmwareImage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("%w: %s", ErrNoFirmware, id)
	}
	return r, err
}

// Open opens an image's bytes, checked against its manifest first: an image changed on disk
// is never served.
func (f *firmware) Open(ctx context.Context, id string) (io.ReadSeekCloser, int64, error) {
	r, err := f.row(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	var m ota.Manifest
	if err := json.Unmarshal([]byte(r.Manifest), &m); err != nil {
		return nil, 0, fmt.Errorf("firmware %s: stored manifest: %w", id, err)
	}
	path := filepath.Join(f.h.opts.DataDir, r.File)
	image, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("firmware %s: %w", id, err)
	}
	if err := m.CheckImage(image); err != nil {
		return nil, 0, fmt.Errorf("firmware %s: the stored image no longer matches its manifest: %w", id, err)
	}
	return nopCloser{strings.NewReader(string(image))}, int64(len(image)), nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// agentAuth checks an agent's credentials (its MQTT password) for site/room.
func (h *Hub) agentAuth(ctx context.Context, site, room, secret string) error {
	hash, err := h.store.AgentHash(ctx, site, room)
	if err != nil {
		return err
	}
	if !auth.CheckSecret(hash, secret) {
		return auth.ErrMismatch
	}
	return nil
}
