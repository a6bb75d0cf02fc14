package hub

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

func testHub(t *testing.T, data string, rooms ...*config.Room) *Hub {
	t.Helper()
	h, err := New(Options{HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0", DataDir: data, Rooms: rooms,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Media:  sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Revisions across restarts: a file's room is revision 1; a push is revision 2 and survives a
// restart with the file unchanged; an edited file becomes revision 3; a stored revision this
// hub does not accept falls back to the newest one it does.
func TestRoomRevisionsAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	file := &config.Room{Site: "court", Room: "r1", Kind: config.KindTechCourtroom, Name: "R1",
		Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)}
	ctx := context.Background()

	h := testHub(t, data, file)
	if _, err := h.prov.PushConfig(ctx, "court", "r1", []byte("site: court\nroom: r1\nkind: tech-courtroom\nname: Pushed\n"), "tech"); err != nil {
		t.Fatal(err)
	}
	h.Close()

	h = testHub(t, data, file)
	if rv, _ := h.reg.Room("court", "r1"); rv.Name != "Pushed" {
		t.Fatalf("after a restart with the file unchanged: name %q, want the pushed one", rv.Name)
	}
	h.Close()

	edited := *file
	edited.Name = "Edited"
	h = testHub(t, data, &edited)
	if rv, _ := h.reg.Room("court", "r1"); rv.Name != "Edited" || h.prov.rooms["court/r1"].Revision != 3 {
		t.Fatalf("after the file changed: %q revision %d", rv.Name, h.prov.rooms["court/r1"].Revision)
	}
	// A revision that no longer validates (written behind the hub's back).
	if _, err := h.store.AddRoomConfig(ctx, store.RoomConfig{Site: "court", Room: "r1", YAML: "site: court\nroom: r1\nkind: spaceship\n", Source: store.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	h.Close()

	h = testHub(t, data, &edited)
	defer h.Close()
	if r := h.prov.rooms["court/r1"]; r == nil || r.Revision != 3 || r.Name != "Edited" {
		t.Fatalf("with a bad newest revision: %+v, want revision 3", r)
	}
}
