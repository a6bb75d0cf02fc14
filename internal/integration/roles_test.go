package integration

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
)

// Who may call each route: the whole role × endpoint matrix. "open" routes take no token;
// "invite" routes take an invite token only (invite_test.go), and refuse every session.
var roleMatrix = map[string]string{
	"GET /healthz":        "open",
	"GET /metrics":        "open",
	"POST /api/v1/login":  "open",
	"POST /api/v1/logout": "technician judge clerk monitor visitor kiosk",

	"GET /api/v1/rooms":                                            "technician judge clerk monitor",
	"GET /api/v1/rooms/{site}/{room}":                              "technician judge clerk monitor",
	"GET /api/v1/events":                                           "technician judge clerk monitor",
	"GET /api/v1/streams":                                          "technician judge clerk monitor",
	"GET /api/v1/recordings":                                       "technician judge clerk monitor",
	"GET /api/v1/recordings/{id}":                                  "technician judge clerk monitor",
	"GET /api/v1/recordings/{id}/tracks/{track}/segments/{n}":      "technician judge clerk monitor", // and the hearing's access level
	"GET /api/v1/rooms/{site}/{room}/scenes":                       "technician judge clerk monitor",
	"GET /api/v1/hearings":                                         "technician judge clerk monitor",
	"GET /api/v1/hearings/{id}":                                    "technician judge clerk monitor",
	"GET /api/v1/hearings/{id}/notes":                              "technician judge clerk monitor",
	"POST /api/v1/rooms/{site}/{room}/devices/{device}/commands":   "technician judge clerk",
	"GET /api/v1/rooms/{site}/{room}/program":                      "technician judge clerk",
	"PUT /api/v1/rooms/{site}/{room}/program":                      "technician judge clerk",
	"POST /api/v1/rooms/{site}/{room}/scenes/{scene}":              "technician judge clerk",
	"POST /api/v1/recordings":                                      "technician judge clerk",
	"POST /api/v1/recordings/{id}/stop":                            "technician judge clerk",
	"POST /api/v1/hearings":                                        "technician judge clerk",
	"POST /api/v1/hearings/{id}/start":                             "technician judge clerk",
	"POST /api/v1/hearings/{id}/pause":                             "technician judge clerk",
	"POST /api/v1/hearings/{id}/resume":                            "technician judge clerk",
	"POST /api/v1/hearings/{id}/end":                               "technician judge clerk",
	"POST /api/v1/hearings/{id}/notes":                             "technician judge clerk",
	"GET /api/v1/audit":                                            "technician",
	"GET /api/v1/audit/verify":                                     "technician",
	"GET /api/v1/alarms":                                           "technician judge clerk monitor",
	"POST /api/v1/alarms/{id}/ack":                                 "technician monitor",
	"GET /api/v1/rooms/{site}/{room}/config":                       "technician",
	"GET /api/v1/rooms/{site}/{room}/config/revisions":             "technician",
	"PUT /api/v1/rooms/{site}/{room}/config":                       "technician",
	"POST /api/v1/rooms":                                           "technician",
	"POST /api/v1/enrollments":                                     "technician",
	"DELETE /api/v1/agents/{site}/{room}":                          "technician",
	"POST /api/v1/enroll":                                          "open", // the enrollment token in the body is the proof
	"POST /api/v1/renew":                                           "open", // the agent's certificate and its proof of the key are the credential
	"POST /api/v1/invites":                                         "technician judge clerk",
	"GET /api/v1/invites":                                          "technician judge clerk",
	"DELETE /api/v1/invites/{id}":                                  "technician judge clerk",
	"GET /api/v1/invite":                                           "invite", // an invite token only: every session is 401
	"GET /api/v1/firmware":                                         "technician judge clerk monitor",
	"POST /api/v1/firmware":                                        "technician",
	"GET /api/v1/firmware/{id}":                                    "technician judge clerk monitor",
	"GET /api/v1/firmware/images/{id}":                             "technician", // and the agents, with their own token
	"POST /api/v1/firmware/{id}/rollouts":                          "technician",
	"GET /api/v1/firmware/rollouts/{id}":                           "technician judge clerk monitor",
	"GET /api/v1/queues":                                           "technician judge clerk monitor kiosk",
	"GET /api/v1/queues/{site}/{room}":                             "technician judge clerk monitor kiosk",
	"GET /api/v1/queues/{site}/{room}/stats":                       "technician judge clerk monitor",
	"POST /api/v1/queues/{site}/{room}/tickets":                    "technician clerk kiosk",
	"GET /api/v1/queues/{site}/{room}/tickets/{number}":            "technician judge clerk monitor kiosk",
	"POST /api/v1/queues/{site}/{room}/windows/{window}/call-next": "technician clerk",
	"POST /api/v1/queues/{site}/{room}/windows/{window}/recall":    "technician clerk",
	"POST /api/v1/queues/{site}/{room}/windows/{window}/no-show":   "technician clerk",
	"POST /api/v1/queues/{site}/{room}/windows/{window}/transfer":  "technician clerk",
	"POST /api/v1/queues/{site}/{room}/windows/{window}/complete":  "technician clerk",
}

// apiRoutes reads the routes the API registers from its source, so a new route without a
// row in the matrix fails the test.
func apiRoutes(t *testing.T) []string {
	src, err := os.ReadFile("../hub/api/api.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("(\w+) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1]+" "+m[2])
	}
	sort.Strings(out)
	return out
}

// TestRoleMatrix walks every route of the real HTTP server with every role and with no
// token: no token is 401 (except the open routes), a role the matrix leaves out is 403 with
// code forbidden, and a role it lets in gets past the role check (any answer but 401/403).
func TestRoleMatrix(t *testing.T) {
	e, d := startDemo(t)
	ctx := context.Background()
	roles := []string{"technician", "judge", "clerk", "monitor", "visitor", "kiosk"}
	for _, u := range [][2]string{{"visitor", "visitor"}} {
		if err := hub.AddUser(ctx, d.Hub.Store(), u[0], u[1], "demo"); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]string{}
	for _, r := range roles {
		tokens[r] = e.demoLogin(r)
	}
	// A public hearing for the {id} of the hearing routes.
	st, h := e.call("POST", "/api/v1/hearings", tokens["technician"], map[string]any{"case": "M-1", "site": "demo-court", "room": "courtroom-1", "judge": "judge"})
	if st != 201 {
		t.Fatalf("create: %d %v", st, h)
	}
	hearingID := h["id"].(string)

	routes := apiRoutes(t)
	if len(routes) < 20 {
		t.Fatalf("found only %d routes in api.go", len(routes))
	}
	for _, rt := range routes {
		if _, ok := roleMatrix[rt]; !ok {
			t.Errorf("route %s has no row in the role matrix", rt)
		}
	}
	for rt := range roleMatrix {
		if !contains(routes, rt) {
			t.Errorf("the role matrix has %s, which api.go does not register", rt)
		}
	}

	bodies := map[string]string{
		"POST /api/v1/login": `{"user":"monitor","password":"demo"}`,
		"POST /api/v1/rooms/{site}/{room}/devices/{device}/commands": `{"action":"refresh"}`,
		"POST /api/v1/recordings":                                    `{"site":"demo-court","room":"litigation-hall"}`,
		"POST /api/v1/hearings":                                      `{"case":"M-2","site":"demo-court","room":"courtroom-1","judge":"judge"}`,
		"POST /api/v1/hearings/{id}/notes":                           `{"text":"x"}`,
		"PUT /api/v1/rooms/{site}/{room}/program":                    `{"follow":true}`,
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		url := strings.NewReplacer("{site}", "demo-court", "{room}", "courtroom-1", "{device}", "projector",
			"{scene}", "privacy-off", "{track}", "program-video", "{n}", "0").Replace(path)
		if strings.HasPrefix(path, "/api/v1/hearings/{id}") {
			url = strings.Replace(url, "{id}", hearingID, 1)
		}
		url = strings.Replace(url, "{id}", "no-such-recording", 1)
		if rt == "DELETE /api/v1/agents/{site}/{room}" {
			url = "/api/v1/agents/demo-court/no-such-room" // revoking a demo agent would cut its room for the routes after
		}
		allowed := roleMatrix[rt]
		for _, role := range append(roles, "") {
			token := tokens[role]
			if rt == "POST /api/v1/logout" && role != "" {
				token = e.demoLogin(role) // a session of its own to end
			}
			status := e.status(method, url, token, bodies[rt])
			who := role
			if who == "" {
				who = "no token"
			}
			switch {
			case allowed == "invite":
				if status != 401 {
					t.Errorf("%s as %s: %d, want 401 (an invite token only)", rt, who, status)
				}
			case allowed == "open":
				if status == 401 || status == 403 {
					t.Errorf("%s as %s: %d, want it open", rt, who, status)
				}
			case role == "":
				if status != 401 {
					t.Errorf("%s with no token: %d, want 401", rt, status)
				}
			case strings.Contains(" "+allowed+" ", " "+role+" "):
				if status == 401 || status == 403 {
					t.Errorf("%s as %s: %d, want it allowed", rt, who, status)
				}
			default:
				if status != 403 {
					t.Errorf("%s as %s: %d, want 403", rt, who, status)
				}
			}
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// status makes one request and returns its status; an event stream is cut after its headers.
func (e *env) status(method, url, token, body string) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequestWithContext(ctx, method, e.url(url), rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
