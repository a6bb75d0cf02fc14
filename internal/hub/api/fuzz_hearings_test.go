package api

import (
	"encoding/json"
	"testing"

	"github.com/bailiff/bailiff/internal/hub/auth"
)

// FuzzHearingRequests sends arbitrary bodies to the routes that take the JSON bodies of
// scenes and hearings: creating a hearing, writing a note, running a scene. Every answer is a
// documented success or a JSON error with a code and a message; never a panic or a 5xx; a
// hearing the server creates reads back the same; a note it takes is in the notes, whose
// chain holds.
func FuzzHearingRequests(f *testing.F) {
	f.Add(uint8(0), `{"case":"CR-1","site":"demo-court","room":"courtroom-1","judge":"judge"}`)
	f.Add(uint8(0), `{"case":"CR-1","site":"demo-court","room":"courtroom-1","judge":"judge","parties":[{"name":"A","role":"b"}],"access":"sealed","scheduled":"2026-11-29T09:00:00Z"}`)
	f.Add(uint8(0), `{"case":"\u0000","site":"demo-court","room":"courtroom-1"}`)
	f.Add(uint8(0), `{"case":"CR-1","site":"demo-court","room":"courtroom-1","judge":"judge","scheduled":"0001-01-01T00:00:00Z"}`)
	f.Add(uint8(1), `{"text":"Witness sworn in"}`)
	f.Add(uint8(1), `{"text":"line one\nline two"}`)
	f.Add(uint8(1), `{"text":""}`)
	f.Add(uint8(2), `{"hearing":"0123456789abcdef01234567"}`)
	f.Add(uint8(2), `{}`)
	f.Add(uint8(2), `null`)
	fx := newOAFixture(f)
	tech := fx.tokens[auth.RoleTechnician]
	// A hearing in session to write notes into.
	w := fx.do("POST", "/api/v1/hearings", tech, "application/json", `{"case":"F-1","site":"demo-court","room":"courtroom-1","judge":"judge"}`)
	var h map[string]any
	json.Unmarshal(w.Body.Bytes(), &h)
	live, _ := h["id"].(string)
	if w := fx.do("POST", "/api/v1/hearings/"+live+"/start", tech, "", ""); w.Code != 200 {
		f.Fatalf("start: %d %s", w.Code, w.Body)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		var method, path string
		switch route % 3 {
		case 0:
			method, path = "POST", "/api/v1/hearings"
		case 1:
			method, path = "POST", "/api/v1/hearings/"+live+"/notes"
		default:
			method, path = "POST", "/api/v1/rooms/demo-court/courtroom-1/scenes/privacy-on"
		}
		w := fx.do(method, path, tech, "application/json", body)
		if w.Code >= 500 {
			t.Fatalf("%s → %d %s", body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s → %d non-JSON %q", body, w.Code, w.Body)
		}
		if w.Code >= 300 {
			e, _ := out["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				t.Fatalf("%s → %d without a clear error: %s", body, w.Code, w.Body)
			}
			return
		}
		switch route % 3 {
		case 0:
			id, _ := out["id"].(string)
			r := fx.do("GET", "/api/v1/hearings/"+id, tech, "", "")
			var back map[string]any
			json.Unmarshal(r.Body.Bytes(), &back)
			if r.Code != 200 || back["case"] != out["case"] || back["access"] != out["access"] {
				t.Fatalf("created %s, read back %d %s", w.Body, r.Code, r.Body)
			}
		case 1:
			r := fx.do("GET", "/api/v1/hearings/"+live+"/notes", tech, "", "")
			var notes NotesCheck
			json.Unmarshal(r.Body.Bytes(), &notes)
			if !notes.Verified || len(notes.Notes) == 0 || notes.Notes[len(notes.Notes)-1].Text != out["text"] {
				t.Fatalf("note %s, notes %s", w.Body, r.Body)
			}
		}
	})
}

// NotesCheck is the part of GET …/notes the fuzz test reads.
type NotesCheck struct {
	Verified bool `json:"verified"`
	Notes    []struct {
		Text string `json:"text"`
	} `json:"notes"`
}
