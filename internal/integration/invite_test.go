package integration

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// filledRoutes is every route the API registers (apiRoutes), method and path, with its path
// IDs filled in.
func filledRoutes(t *testing.T) [][3]string {
	t.Helper()
	fill := strings.NewReplacer("{site}", site, "{room}", "r1", "{device}", "projector", "{id}", "0123456789abcdef", "{scene}", "start-hearing")
	var out [][3]string
	for _, rt := range apiRoutes(t) {
		method, path, _ := strings.Cut(rt, " ")
		out = append(out, [3]string{method, fill.Replace(path), rt})
	}
	return out
}

// Agents publish to their own room only, with agent.{site}.{room}.{secret}; a visitor's
// invite publishes under its own name and watches its own room only, is refused by every API
// route, and once revoked loses its live sessions and every new one.
func TestAgentAndInviteMedia(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnv(t, 2, false)
	judge, monitor := e.login("judge"), e.login("monitor")
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// --- agents ---
	agent1 := "agent." + site + ".r1." + e.creds["r1"].Password
	agent2 := "agent." + site + ".r2." + e.creds["r2"].Password
	pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	offer, err := pub.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"another room's agent", "/whip/court/r1/cam", agent2, 403},
		{"own token, another room", "/whip/court/r2/cam", agent1, 403},
		{"wrong secret", "/whip/court/r1/cam", "agent.court.r1.not-the-password", 401},
		{"unknown agent", "/whip/court/r9/cam", "agent.court.r9." + e.creds["r1"].Password, 401},
		{"malformed", "/whip/court/r1/cam", "agent.court.r1", 401},
	} {
		if st, body, _ := e.whipPost(c.path, c.token, offer); st != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.want)
		}
	}
	e.connect(ctx, pub, "/whip/court/r1/cam", agent1)
	go pub.Run(ctx, clips.VP8, clips.Opus)
	testutil.Eventually(t, 10*time.Second, "the agent's stream", func() bool { return len(e.hub.SFU().Streams()) == 1 })

	// --- invites ---
	if st, body := e.call("POST", "/api/v1/invites", monitor, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness"}); st != 403 {
		t.Errorf("a monitor invites: %d %v", st, body)
	}
	if st, body := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A\nWitness"}); st != 400 {
		t.Errorf("a name with a line break: %d %v", st, body)
	}
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness", "expires_in": "1h"})
	token, _ := inv["token"].(string)
	stream, _ := inv["stream"].(string)
	id, _ := inv["id"].(string)
	if st != 201 || !strings.HasPrefix(token, "invite.") || inv["link"] != "/join#"+token || stream != "visitor-"+id {
		t.Fatalf("create invite: %d %v", st, inv)
	}

	// The visitor watches its room's stream.
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	voffer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.whipPost("/whep/court/r2/cam", token, voffer); st != 403 {
		t.Errorf("visitor watches another room: %d", st)
	}
	e.connect(ctx, v, "/whep/court/r1/cam", token)
	testutil.Eventually(t, 15*time.Second, "the visitor sees video", func() bool { return v.Frames() > 5 })

	// The visitor publishes under its own name only.
	vp, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()
	poffer, err := vp.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/whip/court/r1/cam", "/whip/court/r1/visitor-0000000000000000", "/whip/court/r2/" + stream} {
		if st, _, _ := e.whipPost(p, token, poffer); st != 403 {
			t.Errorf("visitor publishes %s: %d", p, st)
		}
	}
	e.connect(ctx, vp, "/whip/court/r1/"+stream, token)
	go vp.Run(ctx, clips.VP8, clips.Opus)
	testutil.Eventually(t, 10*time.Second, "the visitor's stream", func() bool { return len(e.hub.SFU().Streams()) == 2 })

	// Tokens that are not this hub's valid invites: expired, signed but never issued, signed
	// by another key.
	key, err := record.LoadOrCreateKey(filepath.Join(e.dir, "data", "keys", "invite.key"))
	if err != nil {
		t.Fatal(err)
	}
	past := invite.Claims{ID: invite.NewID(), Site: site, Room: "r1", Hearing: "h-1", Name: "Late", Expires: time.Now().Add(-time.Minute).Truncate(time.Second)}
	if err := e.hub.Store().PutInvite(ctx, store.Invite{ID: past.ID, Site: site, Room: "r1", Hearing: "h-1", Name: "Late",
		CreatedBy: "judge", Created: time.Now().Add(-time.Hour), Expires: past.Expires}); err != nil {
		t.Fatal(err)
	}
	expired, _ := invite.Sign(key, past)
	unissued, _ := invite.Sign(key, invite.Claims{ID: invite.NewID(), Site: site, Room: "r1", Hearing: "h-1", Name: "X", Expires: time.Now().Add(time.Hour)})
	forged, _ := invite.Sign(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), invite.Claims{ID: id, Site: site, Room: "r1", Hearing: "h-1", Name: "A. Witness", Expires: time.Now().Add(time.Hour)})
	for name, tok := range map[string]string{"expired": expired, "never issued": unissued, "another key": forged} {
		if st, _, _ := e.whipPost("/whep/court/r1/cam", tok, voffer); st != 401 {
			t.Errorf("%s invite watches: %d", name, st)
		}
		if st, resp := e.call("GET", "/api/v1/invite", tok, nil); st != 401 || errCode(resp) != "unauthorized" {
			t.Errorf("%s invite reads its invite: %d %v", name, st, resp)
		}
	}

	// The one route an invite token opens: its own invite and its room's live streams.
	st, self := e.call("GET", "/api/v1/invite", token, nil)
	if st != 200 || self["id"] != id || self["room"] != "r1" || self["stream"] != stream || self["hearing"] != "h-1" {
		t.Fatalf("own invite: %d %v", st, self)
	}
	names := map[string]bool{}
	for _, x := range self["streams"].([]any) {
		m := x.(map[string]any)
		if m["room"] != "r1" {
			t.Errorf("own invite lists a stream of another room: %v", m)
		}
		names[m["name"].(string)] = true
	}
	if !names["cam"] || !names[stream] || len(names) != 2 {
		t.Errorf("own invite's streams: %v", self["streams"])
	}
	if st, resp := e.call("GET", "/api/v1/invite", expired, nil); st != 401 || !strings.Contains(errMessage(resp), "expired") {
		t.Errorf("an expired invite reads its invite: %d %v", st, resp)
	}

	// Nothing of the API answers an invite token.
	for _, r := range filledRoutes(t) {
		if roleMatrix[r[2]] == "open" || roleMatrix[r[2]] == "invite" {
			continue // open to anyone, no token; or the invite's own route, below
		}
		var body any
		if r[0] == "POST" {
			body = map[string]any{"site": site, "room": "r1", "hearing": "h", "name": "x", "action": "power"}
		}
		if st, resp := e.call(r[0], r[1], token, body); st != http.StatusUnauthorized && st != http.StatusForbidden {
			t.Errorf("%s %s with an invite token: %d %v", r[0], r[1], st, resp)
		}
	}
	if st, resp := e.call("GET", "/api/v1/events?access_token="+token, "", nil); st != http.StatusUnauthorized {
		t.Errorf("event stream with an invite token in the query: %d %v", st, resp)
	}

	// The invite is listed; revoking it ends the visitor's sessions and refuses new ones.
	st, list := e.call("GET", "/api/v1/invites?site=court&room=r1", judge, nil)
	items, _ := list["list"].([]any)
	if st != 200 || len(items) != 2 || items[0].(map[string]any)["state"] != "valid" || items[0].(map[string]any)["token"] != nil ||
		items[1].(map[string]any)["state"] != "expired" {
		t.Fatalf("list invites: %d %v", st, list)
	}
	if st, resp := e.call("DELETE", "/api/v1/invites/"+id, judge, nil); st != 200 || resp["state"] != "revoked" {
		t.Fatalf("revoke: %d %v", st, resp)
	}
	select {
	case <-v.Ended():
	case <-time.After(10 * time.Second):
		t.Error("the revoked visitor's viewer still runs")
	}
	testutil.Eventually(t, 10*time.Second, "the visitor's stream ended", func() bool { return len(e.hub.SFU().Streams()) == 1 })
	if st, _, _ := e.whipPost("/whep/court/r1/cam", token, voffer); st != 401 {
		t.Errorf("a revoked invite watches: %d", st)
	}
	if st, resp := e.call("GET", "/api/v1/invite", token, nil); st != 401 || !strings.Contains(errMessage(resp), "revoked") {
		t.Errorf("a revoked invite reads its invite: %d %v", st, resp)
	}
	if st, resp := e.call("DELETE", "/api/v1/invites/fedcba9876543210", judge, nil); st != 404 {
		t.Errorf("revoke an unknown invite: %d %v", st, resp)
	}
}

// errMessage is the message of the hub's JSON error.
func errMessage(body map[string]any) string {
	m, _ := body["error"].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

// An invite is for one hearing: when the hearing ends the visitor's live sessions close, the
// token is refused from then on and the list shows the invite ended; no one can be invited
// to an ended hearing.
func TestInviteEndsWithItsHearing(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnv(t, 1, false)
	judge := e.login("judge")
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	st, h := e.call("POST", "/api/v1/hearings", judge, map[string]any{"case": "INV-1", "site": site, "room": "r1"})
	hid, _ := h["id"].(string)
	if st != 201 || hid == "" {
		t.Fatalf("create hearing: %d %v", st, h)
	}
	if st, tr := e.call("POST", "/api/v1/hearings/"+hid+"/start", judge, nil); st != 200 {
		t.Fatalf("start: %d %v", st, tr)
	}
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": hid, "name": "B. Witness"})
	token, _ := inv["token"].(string)
	if st != 201 || token == "" {
		t.Fatalf("invite: %d %v", st, inv)
	}
	// Another hearing's invite in the same room outlives this one.
	_, other := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "later", "name": "C. Expert"})
	otherToken, _ := other["token"].(string)

	agent := "agent." + site + ".r1." + e.creds["r1"].Password
	pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	e.connect(ctx, pub, "/whip/court/r1/cam", agent)
	go pub.Run(ctx, clips.VP8, clips.Opus)
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e.connect(ctx, v, "/whep/court/r1/cam", token)
	testutil.Eventually(t, 15*time.Second, "the visitor sees video", func() bool { return v.Frames() > 5 })

	if st, tr := e.call("POST", "/api/v1/hearings/"+hid+"/end", judge, nil); st != 200 {
		t.Fatalf("end: %d %v", st, tr)
	}
	select {
	case <-v.Ended():
	case <-time.After(10 * time.Second):
		t.Error("the visitor's viewer still runs after the hearing ended")
	}
	v2, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	offer, err := v2.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := e.whipPost("/whep/court/r1/cam", token, offer); st != 401 {
		t.Errorf("the ended hearing's invite watches: %d %s", st, body)
	}
	if st, resp := e.call("GET", "/api/v1/invite", token, nil); st != 401 || !strings.Contains(errMessage(resp), "ended") {
		t.Errorf("the ended hearing's invite reads its invite: %d %v", st, resp)
	}
	if st, resp := e.call("GET", "/api/v1/invite", otherToken, nil); st != 200 {
		t.Errorf("another hearing's invite: %d %v", st, resp)
	}
	_, list := e.call("GET", "/api/v1/invites?site=court&room=r1", judge, nil)
	states := map[string]any{}
	for _, x := range list["list"].([]any) {
		m := x.(map[string]any)
		states[m["id"].(string)] = m["state"]
	}
	if states[inv["id"].(string)] != "ended" || states[other["id"].(string)] != "valid" {
		t.Errorf("invite states: %v", states)
	}
	if st, resp := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": hid, "name": "D. Late"}); st != 409 || !strings.Contains(errMessage(resp), "ended") {
		t.Errorf("invite to an ended hearing: %d %v", st, resp)
	}
}
