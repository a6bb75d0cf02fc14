package fwbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/firmware-bridge/bridge"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
	"github.com/bailiff/bailiff/internal/wire"
)

// UpdateTimeout bounds one firmware update from fetch to confirm.
var UpdateTimeout = 30 * time.Minute

var _ drivers.FirmwareUpdater = (*Device)(nil)

// UpdateFirmware checks the update's manifest against the device and starts the update in the
// background: fetch the image from the hub, send it, verify, reboot, confirm. Each step is a
// "firmware" event (step, percent, reason, with the image, version and rollout) and shows in
// the state's "firmware_update"; the device's hello after the update gives its new version.
func (d *Device) UpdateFirmware(ctx context.Context, u wire.FirmwareUpdateArgs) error {
	var m ota.Manifest
	if err := json.Unmarshal(u.Manifest, &m); err != nil {
		return fmt.Errorf("fwbridge: firmware.update: manifest: %w: %w", err, drivers.ErrBadArgs)
	}
	if d.firmwareKey != nil {
		if err := m.Verify(d.firmwareKey); err != nil {
			return fmt.Errorf("fwbridge: firmware.update: %w (option firmware_key): %w", err, drivers.ErrBadArgs)
		}
	}
	h, up, err := d.b.Info()
	switch {
	case !up:
		return fmt.Errorf("fwbridge: firmware.update: %w: %w", err, drivers.ErrUnreachable)
	case h.Caps&frame.CapUpdate == 0:
		return fmt.Errorf("fwbridge: firmware.update: this %s takes no firmware updates: %w", h.DeviceType, drivers.ErrUnsupported)
	case m.DeviceType != h.DeviceType:
		return fmt.Errorf("fwbridge: firmware.update: the image is for a %s, this is a %s: %w", m.DeviceType, h.DeviceType, drivers.ErrBadArgs)
	case d.fetch == nil:
		return fmt.Errorf("fwbridge: firmware.update: no hub to fetch the image from: %w", drivers.ErrUnsupported)
	}
	d.mu.Lock()
	if u.Rollout != "" && d.progress != nil && d.progress["rollout"] == u.Rollout && d.progress["image"] == u.Image {
		// The hub asks again for the update of a rollout this device has begun (the hub
		// restarted before it knew the first ask arrived): it is under way or done, and the
		// state says which.
		d.mu.Unlock()
		d.report()
		return nil
	}
	if d.updating {
		d.mu.Unlock()
		return fmt.Errorf("fwbridge: firmware.update: an update is already running: %w", drivers.ErrBusy)
	}
	d.updating = true
	d.progress = progressFields(u, m, bridge.Progress{Step: bridge.StepDownloading}) // a repeated ask sees it at once
	d.mu.Unlock()
	go d.runUpdate(u, m)
	return nil
}

// progressFields is a firmware event's fields (and the state's "firmware_update") for a step.
func progressFields(u wire.FirmwareUpdateArgs, m ota.Manifest, p bridge.Progress) map[string]any {
	f := map[string]any{"step": p.Step, "percent": p.Percent, "image": u.Image, "version": m.Version.String()}
	if p.Reason != "" {
		f["reason"] = p.Reason
	}
	if u.Rollout != "" {
		f["rollout"] = u.Rollout
	}
	if p.Resumed {
		f["resumed"] = true
	}
	return f
}

func (d *Device) runUpdate(u wire.FirmwareUpdateArgs, m ota.Manifest) {
	ctx, cancel := context.WithTimeout(d.ctx, UpdateTimeout)
	defer cancel()
	defer func() {
		d.mu.Lock()
		d.updating = false
		d.mu.Unlock()
		d.report()
	}()
	last := bridge.Progress{Percent: -1}
	progress := func(p bridge.Progress) {
		// Every step, and the transfer in 5 % steps.
		if p.Step == last.Step && p.Step == bridge.StepDownloading && p.Percent < last.Percent+5 && p.Percent != 100 && !p.Resumed {
			return
		}
		last = p
		f := progressFields(u, m, p)
		d.mu.Lock()
		d.progress = maps.Clone(f)
		d.mu.Unlock()
		d.notify.Event("firmware", f)
		d.report()
	}
	progress(bridge.Progress{Step: bridge.StepDownloading})
	image, err := d.fetch(ctx, u.URL, ota.MaxImage)
	if err == nil {
		err = m.CheckImage(image)
	}
	if err != nil {
		progress(bridge.Progress{Step: bridge.StepFailed, Reason: "fetch: " + err.Error()})
		return
	}
	if err := d.b.Update(ctx, m, image, u.Force, progress); err != nil {
		d.log.Warn("fwbridge: firmware update ended without the new image", "image", u.Image, "error", err)
	}
}
