package configs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/bailiff/bailiff/configs"
	"github.com/bailiff/bailiff/internal/config"
)

// TestValidate checks every file here as "hub validate" would: hub.yaml together with the
// rooms directory it names, and each room config on its own.
func TestValidate(t *testing.T) {
	files, err := filepath.Glob("rooms/*")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "hub.yaml")
	for _, f := range files {
		if err := config.ValidateFile(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
	h, err := config.LoadHub("hub.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.RoomsDir() != "rooms" {
		t.Errorf("hub.yaml names rooms dir %q, want this rooms/", h.RoomsDir())
	}
	if _, err := config.LoadRooms(h.RoomsDir()); err != nil {
		t.Error(err)
	}
}

// TestRoomFiles checks that the embedded rooms are the rooms on disk, one per kind, all in
// site demo-court, with device addresses on distinct ports.
func TestRoomFiles(t *testing.T) {
	files, err := configs.RoomFiles()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, _ := filepath.Glob("rooms/*")
	var embedded []string
	for name := range files {
		embedded = append(embedded, name)
	}
	sort.Strings(embedded)
	if !slices.Equal(embedded, onDisk) {
		t.Errorf("embedded %v, on disk %v (only rooms/*.yaml is embedded)", embedded, onDisk)
	}
	kinds := map[string]string{}
	addrs := map[string]string{}
	for _, name := range embedded {
		r, err := config.ParseRoom(name, files[name])
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if r.Site != "demo-court" {
			t.Errorf("%s: site %q, want demo-court", name, r.Site)
		}
		if other, dup := kinds[r.Kind]; dup {
			t.Errorf("%s and %s are both %s; want one example per kind", other, name, r.Kind)
		}
		kinds[r.Kind] = name
		if len(r.Devices) == 0 {
			t.Errorf("%s: no devices", name)
		}
		for _, d := range r.Devices {
			if d.Address == "" {
				continue // the agent host's own pins and sound card
			}
			if other, dup := addrs[d.Address]; dup {
				t.Errorf("%s: %s: address %s also used in %s", name, d.ID, d.Address, other)
			}
			addrs[d.Address] = name + ": " + d.ID
		}
	}
	for _, k := range config.Kinds {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no example room of kind %s", k)
		}
	}
	hub, err := fs.ReadFile(configs.FS, "hub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile("hub.yaml")
	if string(hub) != string(disk) {
		t.Error("embedded hub.yaml differs from the file")
	}
	if _, err := config.ParseHub("hub.yaml", hub, nil); err != nil {
		t.Error(err)
	}
}

// TestCourtroomScenes checks that every example courtroom (tech-courtroom and
// remote-interrogation) has the scenes the judge's panel and the hearings use.
func TestCourtroomScenes(t *testing.T) {
	files, err := configs.RoomFiles()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, data := range files {
		r, err := config.ParseRoom(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != config.KindTechCourtroom && r.Kind != config.KindRemoteInterrogation {
			continue
		}
		n++
		for _, s := range []string{"start-hearing", "end-hearing", "privacy-on", "privacy-off"} {
			if _, ok := r.Scene(s); !ok {
				t.Errorf("%s: no scene %s", name, s)
			}
		}
		start, _ := r.Scene("start-hearing")
		end, _ := r.Scene("end-hearing")
		if start != nil && !hasHub(start.Steps, config.HubStartRecording) {
			t.Errorf("%s: start-hearing does not start the recording", name)
		}
		if end != nil && !hasHub(end.Steps, config.HubStopRecording) {
			t.Errorf("%s: end-hearing does not stop the recording", name)
		}
	}
	if n < 2 {
		t.Errorf("only %d example courtrooms", n)
	}
}

func hasHub(steps []config.Step, action string) bool {
	for _, s := range steps {
		if s.Hub == action || hasHub(s.Parallel, action) {
			return true
		}
	}
	return false
}
