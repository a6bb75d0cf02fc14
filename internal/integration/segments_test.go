package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// recordedHearing is a hearing in room r1 with the given access level, recorded while a pion
// publisher sends the test clip as the room's program stream, with two notes, then ended:
// its ID, its recording's ID and the recording (stopped, with its segments).
func recordedHearing(t testing.TB, e *env, access string, d time.Duration) (string, string, map[string]any) {
	t.Helper()
	tech, judge := e.login("tech"), e.login("judge")
	clips := sfutest.Load(t, sfutest.Small)
	st, h := e.call("POST", "/api/v1/hearings", tech, map[string]any{"case": "CR-2026-0042", "title": "Segments", "site": site, "room": "r1", "judge": "judge", "access": access})
	if st != 201 {
		t.Fatalf("create hearing: %d %v", st, h)
	}
	id := h["id"].(string)
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := sfutest.NewPublisher(api, "video/VP8")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	e.connect(ctx, pub, "/whip/"+site+"/r1/program", tech)
	go pub.Run(ctx, clips.VP8, clips.Opus)
	st, tr := e.call("POST", "/api/v1/hearings/"+id+"/start", judge, nil)
	if st != 200 {
		t.Fatalf("start hearing: %d %v", st, tr)
	}
	recs, _ := tr["hearing"].(map[string]any)["recordings"].([]any)
	if len(recs) != 1 {
		t.Fatalf("the started hearing has recordings %v", recs)
	}
	recID := recs[0].(string)
	testutil.Eventually(t, 10*time.Second, "both tracks recording", func() bool {
		_, body := e.call("GET", "/api/v1/recordings/"+recID, tech, nil)
		tracks, _ := body["tracks"].([]any)
		return len(tracks) == 2
	})
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", judge, map[string]string{"text": "Witness sworn in"}); st != 201 {
		t.Fatalf("note: %d %v", st, n)
	}
	time.Sleep(d / 2)
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", judge, map[string]string{"text": "Exhibit 3 shown"}); st != 201 {
		t.Fatalf("note: %d %v", st, n)
	}
	time.Sleep(d / 2)
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/end", judge, nil); st != 200 {
		t.Fatalf("end hearing: %d %v", st, tr)
	}
	st, rec := e.call("GET", "/api/v1/recordings/"+recID, tech, nil)
	if st != 200 || rec["state"] != "stopped" || rec["verified"] != true {
		t.Fatalf("the recording after the hearing: %d %v", st, rec)
	}
	return id, recID, rec
}

// segmentOf is the first segment of the recording's track of kind ("video" or "audio").
func segmentOf(t testing.TB, rec map[string]any, kind string) map[string]any {
	t.Helper()
	segs, _ := rec["segments"].([]any)
	for _, s := range segs {
		m := s.(map[string]any)
		if m["Kind"] == kind {
			return m
		}
	}
	t.Fatalf("no %s segment in %v", kind, segs)
	return nil
}

func (e *env) get(path, token string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url(path), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestRecordingSegments: a recording's WebM segments are served to whoever may see the
// recording — its hearing's access level decides, exactly as for the recording itself — with
// Range requests, the token in the header or the query; no name reaches another file.
func TestRecordingSegments(t *testing.T) {
	e := newEnv(t, 1, false)
	tech, judge, monitor := e.login("tech"), e.login("judge"), e.login("monitor")
	_, recID, rec := recordedHearing(t, e, "confidential", 2*time.Second)
	seg := segmentOf(t, rec, "video")
	track, n := seg["Track"].(string), strconv.Itoa(int(seg["Index"].(float64)))
	path := "/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/" + n
	file, err := os.ReadFile(filepath.Join(e.dir, "data", rec["dir"].(string), seg["File"].(string)))
	if err != nil {
		t.Fatal(err)
	}

	// The whole segment, to the technician and the judge; refused to a monitor (a confidential
	// hearing) and without a token.
	for name, tok := range map[string]string{"tech": tech, "judge": judge} {
		resp, body := e.get(path, tok, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, file) || resp.Header.Get("Content-Type") != "video/webm" || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: %d %s, %d bytes (file %d)", name, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(file))
		}
	}
	if resp, body := e.get(path, monitor, nil); resp.StatusCode != 403 {
		t.Errorf("a monitor gets a confidential hearing's segment: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.get(path, "", nil); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	// The token in the query, as a <video> element sends it.
	if resp, body := e.get(path+"?access_token="+judge, "", nil); resp.StatusCode != 200 || len(body) != len(file) {
		t.Errorf("token in the query: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := e.get(path+"?access_token="+monitor, "", nil); resp.StatusCode != 403 {
		t.Errorf("a monitor's token in the query: %d", resp.StatusCode)
	}

	// Ranges.
	resp, body := e.get(path, tech, map[string]string{"Range": "bytes=100-299"})
	if resp.StatusCode != 206 || !bytes.Equal(body, file[100:300]) || resp.Header.Get("Content-Range") != "bytes 100-299/"+strconv.Itoa(len(file)) {
		t.Errorf("range 100-299: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
	}
	resp, body = e.get(path, tech, map[string]string{"Range": "bytes=-50"})
	if resp.StatusCode != 206 || !bytes.Equal(body, file[len(file)-50:]) {
		t.Errorf("the last 50 bytes: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := e.get(path, tech, map[string]string{"Range": "bytes=" + strconv.Itoa(len(file)+10) + "-"}); resp.StatusCode != 416 {
		t.Errorf("a range past the end: %d", resp.StatusCode)
	}

	// A recording still being written is not served.
	st, running := e.call("POST", "/api/v1/recordings", tech, map[string]string{"site": site, "room": "r1"})
	if st != 201 {
		t.Fatalf("start a recording: %d %v", st, running)
	}
	if resp, body := e.get("/api/v1/recordings/"+running["id"].(string)+"/tracks/"+track+"/segments/0", tech, nil); resp.StatusCode != 409 {
		t.Errorf("a running recording's segment: %d %s", resp.StatusCode, body)
	}

	// Names that are not a segment: refused before any file is opened, or not found.
	recDir := filepath.Join(e.dir, "data", rec["dir"].(string))
	if err := os.Symlink(filepath.Join(e.dir, "data", "hub.db"), filepath.Join(recDir, "evil-000000.webm")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]int{
		"/api/v1/recordings/" + recID + "/tracks/..%2F..%2F..%2Fhub.db/segments/0":   400,
		"/api/v1/recordings/" + recID + "/tracks/.hidden/segments/0":                 400,
		"/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/-1":          400,
		"/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/x":           400,
		"/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/+0":          400,
		"/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/999":         404,
		"/api/v1/recordings/" + recID + "/tracks/no-such-track/segments/0":           404,
		"/api/v1/recordings/" + recID + "/tracks/evil/segments/0":                    404, // a link out of the directory
		"/api/v1/recordings/no-such-recording/tracks/" + track + "/segments/0":       404,
		"/api/v1/recordings/..%2F..%2Fkeys/tracks/" + track + "/segments/0":          400,
		"/api/v1/recordings/" + recID + "/tracks/" + track + "/segments/0%2F..%2F..": 400,
	} {
		if resp, body := e.get(p, tech, nil); resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", p, resp.StatusCode, body, want)
		}
	}
}

// BenchmarkRecordingSegment serves a recorded segment over the hub's HTTP API to a technician
// (token check, the hearing's access level, the file opened in the recording's directory):
// the whole segment, and a 64 KiB range as a <video> element asks for while seeking.
func BenchmarkRecordingSegment(b *testing.B) {
	e := newEnv(b, 1, false)
	tech := e.login("tech")
	_, recID, rec := recordedHearing(b, e, "confidential", 3*time.Second)
	seg := segmentOf(b, rec, "video")
	path := e.url("/api/v1/recordings/" + recID + "/tracks/" + seg["Track"].(string) + "/segments/" + strconv.Itoa(int(seg["Index"].(float64))))
	size := int64(seg["Bytes"].(float64))
	for _, c := range []struct {
		name, rng string
		n         int64
		status    int
	}{{"whole", "", size, 200}, {"range64k", "bytes=1000-66535", 65536, 206}} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+tech)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			b.SetBytes(c.n)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status || n != c.n {
					b.Fatalf("%d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}
