package integration

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/hubcli"
	"github.com/bailiff/bailiff/media/record"
)

// `hub keys rotate`: after the recording key is rotated, a recording signed before (its
// manifest names the old key) still verifies, a new one is signed with the new key, and a
// tampered one fails; after the invite key is rotated (hub stopped, rotated, started), an
// invite issued before still works until it expires, a new one is signed with the new key,
// and a token re-signed with the retired key but claims other than those issued is refused.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, 1, false)
	data := filepath.Join(e.dir, "data")
	rotate := func(which string) string {
		var out, errb bytes.Buffer
		if code := hubcli.Main([]string{"keys", "rotate", which, "--data", data}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("hub keys rotate %s: %d %s", which, code, errb.String())
		}
		return out.String()
	}
	recordWith := func(name string) (string, string) {
		key, err := hub.RecordingKey(data)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(e.dir, "recs", name)
		rec, err := record.Start(record.Options{Dir: dir, Key: key, Site: site, Room: "r1", Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		rec.Mark("note", name)
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, record.Fingerprint(key.Public().(ed25519.PublicKey))
	}
	verify := func(dir string) bool {
		rep, err := hub.VerifyRecording(data, dir)
		return err == nil && rep.OK()
	}

	// --- the recording key ---
	before, oldFP := recordWith("before")
	out := rotate("recording")
	if !strings.Contains(out, oldFP) || !strings.Contains(out, "retired") {
		t.Fatalf("rotate said %q", out)
	}
	after, newFP := recordWith("after")
	if newFP == oldFP {
		t.Fatal("the recording key did not change")
	}
	for dir, fp := range map[string]string{before: oldFP, after: newFP} {
		m, _ := os.ReadFile(filepath.Join(dir, "manifest.jsonl"))
		if !strings.Contains(string(m), `"key_id":"`+fp+`"`) {
			t.Errorf("%s: the manifest does not name its key %s", dir, fp)
		}
		if !verify(dir) {
			t.Errorf("%s does not verify after the rotation", dir)
		}
	}
	m := filepath.Join(before, "manifest.jsonl")
	b, _ := os.ReadFile(m)
	os.WriteFile(m, bytes.Replace(b, []byte(`"before"`), []byte(`"BEFORE"`), 1), 0o644)
	if verify(before) {
		t.Error("a tampered recording verified")
	}

	// --- the invite key ---
	judge := e.login("judge")
	newInvite := func() string {
		st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness", "expires_in": "1h"})
		if st != 201 {
			t.Fatalf("create invite: %d %v", st, inv)
		}
		return inv["token"].(string)
	}
	old := newInvite()
	e.hub.Close()
	rotate("invite")
	e.startHub()
	judge = e.login("judge")
	fresh := newInvite()
	for name, tok := range map[string]string{"issued before the rotation": old, "issued after": fresh} {
		if st, body := e.call("GET", "/api/v1/invite", tok, nil); st != 200 {
			t.Errorf("an invite %s: %d %v", name, st, body)
		}
	}
	retired, _ := filepath.Glob(filepath.Join(data, "keys", "retired", "invite-*.key"))
	if len(retired) != 1 {
		t.Fatalf("retired invite keys: %v", retired)
	}
	oldKey, err := record.LoadOrCreateKey(retired[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invite.Parse(oldKey.Public().(ed25519.PublicKey), fresh, time.Now()); err == nil {
		t.Error("a new invite verifies with the retired key")
	}
	c, err := invite.Parse(oldKey.Public().(ed25519.PublicKey), old, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.Expires = c.Expires.Add(24 * time.Hour) // what a thief of the old key would do
	longer, err := invite.Sign(oldKey, c)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := e.call("GET", "/api/v1/invite", longer, nil); st != 401 || !strings.Contains(errMessage(body), "does not match") {
		t.Errorf("an invite re-signed with other claims: %d %v", st, body)
	}
}
