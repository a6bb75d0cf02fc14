package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FirmwareImage is a stored firmware image's row; Manifest is its signed manifest as JSON
// (firmware-bridge/ota), File its path relative to the data directory.
type FirmwareImage struct {
	ID, DeviceType, Version string
	Manifest                string
	File                    string
	UploadedBy              string
	Created                 time.Time
}

// ErrExists: a firmware image of that device type and version is already stored.
var ErrExists = errors.New("store: already exists")

// PutFirmwareImage adds an image's row; a second image of the same device type and version
// is refused with ErrExists.
func (s *Store) PutFirmwareImage(ctx context.Context, f FirmwareImage) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO firmware_images(id, device_type, version, manifest, file, uploaded_by, created)
		VALUES(?,?,?,?,?,?,?)`, f.ID, f.DeviceType, f.Version, f.Manifest, f.File, f.UploadedBy, f.Created.UnixMilli())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("store: firmware %s %s: %w", f.DeviceType, f.Version, ErrExists)
		}
		return fmt.Errorf("store: put firmware %s: %w", f.ID, err)
	}
	return nil
}

// FirmwareImage returns the image with id, or ErrNotFound.
func (s *Store) FirmwareImage(ctx context.Context, id string) (FirmwareImage, error) {
	list, err := s.firmwareImages(ctx, `WHERE id=?`, id)
	if err != nil {
		return FirmwareImage{}, err
	}
	if len(list) == 0 {
		return FirmwareImage{}, ErrNotFound
	}
	return list[0], nil
}

// FirmwareImages lists every image, newest first.
func (s *Store) FirmwareImages(ctx context.Context) ([]FirmwareImage, error) {
	return s.firmwareImages(ctx, ``)
}

func (s *Store) firmwareImages(ctx context.Context, where string, args ...any) ([]FirmwareImage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, device_type, version, manifest, file, uploaded_by, created
		FROM firmware_images `+where+` ORDER BY created DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: firmware images: %w", err)
	}
	defer rows.Close()
	var out []FirmwareImage
	for rows.Next() {
		var f FirmwareImage
		var created int64
		if err := rows.Scan(&f.ID, &f.DeviceType, &f.Version, &f.Manifest, &f.File, &f.UploadedBy, &created); err != nil {
			return nil, err
		}
		f.Created = time.UnixMilli(created).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}

// FirmwareRollout is a rollout's row: Body is its whole record as JSON (the hub's view).
type FirmwareRollout struct {
	ID, ImageID string
	Body        string
	Created     time.Time
}

// PutFirmwareRollout creates or updates a rollout's row.
func (s *Store) PutFirmwareRollout(ctx context.Context, r FirmwareRollout) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO firmware_rollouts(id, image_id, body, created) VALUES(?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET body=excluded.body`, r.ID, r.ImageID, r.Body, r.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put firmware rollout %s: %w", r.ID, err)
	}
	return nil
}

// FirmwareRollouts lists rollouts, newest first; id "" lists all, else only that one.
func (s *Store) FirmwareRollouts(ctx context.Context, id string) ([]FirmwareRollout, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, image_id, body, created FROM firmware_rollouts
		WHERE ?='' OR id=? ORDER BY created DESC, id`, id, id)
	if err != nil {
		return nil, fmt.Errorf("store: firmware rollouts: %w", err)
	}
	defer rows.Close()
	var out []FirmwareRollout
	for rows.Next() {
		var r FirmwareRollout
		var created int64
		if err := rows.Scan(&r.ID, &r.ImageID, &r.Body, &created); err != nil {
			return nil, err
		}
		r.Created = time.UnixMilli(created).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
