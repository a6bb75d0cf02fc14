package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/browser"
	"github.com/bailiff/bailiff/internal/wire"
)

// waitPage waits until the JavaScript expression expr is true in the page.
func waitPage(t *testing.T, b *browser.Browser, d time.Duration, what, expr string) {
	t.Helper()
	testutil.Eventually(t, d, what, func() bool {
		var ok bool
		return b.Eval(5*time.Second, "!!("+expr+")", &ok) == nil && ok
	})
}

// pageDo runs JavaScript statements in the page.
func pageDo(t *testing.T, b *browser.Browser, js string) {
	t.Helper()
	b.MustEval(t, 10*time.Second, "(() => { "+js+" })(), true", nil)
}

// pageLogin logs in through the page's form. An exception thrown in the page fails the test.
func pageLogin(t *testing.T, b *browser.Browser, user, password string) {
	t.Helper()
	b.FailOnExceptions(t)
	waitPage(t, b, 10*time.Second, "the login form", `document.querySelector("#login") && !document.querySelector("#login").hidden`)
	pageDo(t, b, `const f = document.querySelector("#login");
		f.querySelector("[name=user]").value = `+js(user)+`;
		f.querySelector("[name=password]").value = `+js(password)+`;
		f.requestSubmit();`)
}

// screenshots is where the pages' pictures go (docs/screenshots).
func screenshots(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "screenshots", name)
}

// runEnrolledAgent runs an agent as `agent --credentials FILE` does, with the credentials file
// `agent enroll` wrote, until the test ends.
func runEnrolledAgent(t *testing.T, credFile string) *agent.Agent {
	t.Helper()
	creds, err := agent.ResolveCredentials(agent.CredentialSources{File: credFile})
	if err != nil {
		t.Fatal(err)
	}
	room, err := agent.BootstrapRoom(creds.Username)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Room: room, Broker: creds.Broker, Username: creds.Username, Password: creds.Password,
		Version: "test", Logger: testLogger(t), MaxBackoff: 500 * time.Millisecond, ConfigCache: agent.ConfigCacheFor(credFile)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// TestBrowserConsole: a technician logs in to the console in Chromium and sees the rooms; a
// projector's fault appears as an alarm, which the technician acknowledges in the page; a new
// room is created in the editor and its agent enrolled with the token the page issued; a
// config that does not validate shows its problem with line and key, nothing applied; a
// pushed config moves a display to another simulator, the agent reports the new revision,
// and the page's power button reaches the new simulator; the language switch shows Chinese.
func TestBrowserConsole(t *testing.T) {
	e, b := newBrowserEnv(t, nil)
	tech := e.login("tech")
	b.Navigate(t, e.url("/?lang=en"))
	pageLogin(t, b, "tech", "pw-tech")
	room := func(r string) string { return `document.querySelector('[data-room="` + site + `/` + r + `"]')` }
	waitPage(t, b, 15*time.Second, "both rooms online with their devices",
		room("r1")+` && `+room("r2")+` && `+room("r1")+`.querySelectorAll("tr[data-device]").length == 2 && `+room("r1")+`.querySelector(".badge.on")`)

	// An alarm appears live and is acknowledged in the page.
	if err := e.sims["r1/projector"].SetERST("020000"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "the projector's alarm raised by the hub", func() bool {
		return e.activeAlarm(tech, "r1", "projector", "device-error") != nil
	})
	waitPage(t, b, 15*time.Second, "the projector's alarm in the page", `[...document.querySelectorAll("#alarm-list tr")].some((tr) => tr.textContent.includes("projector") && tr.querySelector("button.ack"))`)
	b.Screenshot(t, screenshots("console-alarm.png"), 1280, 800)
	pageDo(t, b, `[...document.querySelectorAll("#alarm-list tr")].find((tr) => tr.textContent.includes("projector")).querySelector("button.ack").click()`)
	testutil.Eventually(t, 10*time.Second, "the alarm acknowledged by tech", func() bool {
		a := e.activeAlarm(tech, "r1", "projector", "device-error")
		return a != nil && a["acked_by"] == "tech"
	})
	waitPage(t, b, 10*time.Second, "the page shows it acknowledged", `document.querySelector("#alarm-list tr.acked")`)

	// A new room from the editor, and its agent's enrollment.
	sim := pjlinksim.New(pjlinksim.Config{})
	simAddr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	newRoom := fmt.Sprintf("site: %s\nroom: r9\nkind: tech-courtroom\nname: Room 9\ndevices:\n  - id: projector\n    driver: pjlink\n    address: %s\n", site, simAddr)
	pageDo(t, b, `document.querySelector("#new-room").click()`)
	waitPage(t, b, 5*time.Second, "the editor open", `document.querySelector("#cfg-dialog").open`)
	pageDo(t, b, `document.querySelector("#cfg-yaml").value = `+js(newRoom)+`; document.querySelector("#cfg-save").click()`)
	waitPage(t, b, 10*time.Second, "the new room in the console", room("r9")+` && document.querySelector("#cfg-saved").textContent.includes("r9")`)
	pageDo(t, b, `document.querySelector("#cfg-dialog").close(); `+room("r9")+`.querySelector("button.enroll").click()`)
	waitPage(t, b, 10*time.Second, "the enrollment command", `document.querySelector("#enroll-cmd").dataset.token`)
	var cmd string
	b.MustEval(t, 5*time.Second, `document.querySelector("#enroll-cmd").textContent`, &cmd)
	b.Screenshot(t, screenshots("console-enroll.png"), 1280, 800)
	hubURL := e.url("")
	if !strings.HasPrefix(cmd, "agent enroll --hub "+hubURL+" --token ") {
		t.Fatalf("enrollment command %q", cmd)
	}
	token := strings.TrimPrefix(cmd, "agent enroll --hub "+hubURL+" --token ")
	en, err := agent.Enroll(context.Background(), hubURL, token, nil)
	if err != nil {
		t.Fatalf("enroll with the page's token: %v", err)
	}
	if en.Room != "r9" || en.Credentials.Username != "agent/"+site+"/r9" {
		t.Fatalf("enrolled %+v", en)
	}
	if _, err := agent.Enroll(context.Background(), hubURL, token, nil); err == nil {
		t.Fatal("the page's token worked twice")
	}
	credFile := filepath.Join(e.dir, "r9.yaml")
	if err := agent.WriteCredentials(credFile, en); err != nil {
		t.Fatal(err)
	}
	runEnrolledAgent(t, credFile)
	waitPage(t, b, 15*time.Second, "the enrolled room online in the console, its projector reachable, on the pushed revision",
		room("r9")+`.querySelector(".badge.on") && `+room("r9")+`.querySelector('tr[data-device="projector"]:not(.down)') && `+room("r9")+`.querySelector('.agent[data-revision="1"]')`)
	pageDo(t, b, `document.querySelector("#enroll-dialog").close()`)

	// A config that does not validate: its problem by line and key, nothing stored.
	pageDo(t, b, room("r1")+`.querySelector("button.edit-config").click()`)
	waitPage(t, b, 10*time.Second, "r1's config in the editor", `document.querySelector("#cfg-yaml").value.includes("room: r1") && document.querySelector("#cfg-revs button")`)
	var text string
	b.MustEval(t, 5*time.Second, `document.querySelector("#cfg-yaml").value`, &text)
	bad := strings.Replace(text, "kind: tech-courtroom", "kind: tech-courtroom\ncolour: red", 1)
	if bad == text {
		t.Fatalf("no kind line in r1's config:\n%s", text)
	}
	badLine := strings.Count(bad[:strings.Index(bad, "colour:")], "\n") + 1
	pageDo(t, b, `document.querySelector("#cfg-yaml").value = `+js(bad)+`; document.querySelector("#cfg-save").click()`)
	waitPage(t, b, 10*time.Second, "the problem with its line and key",
		`document.querySelector('#cfg-errors li.problem[data-key="colour"][data-line="`+strconv.Itoa(badLine)+`"]')`)
	b.Screenshot(t, screenshots("console-config-error.png"), 1280, 800)
	if rev, _, _ := e.agentConfig(tech, "r1"); rev != 1 {
		t.Fatalf("after a refused config the agent runs revision %v", rev)
	}
	if st, cur := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil); st != 200 || cur["revision"] != 1.0 {
		t.Fatalf("a refused config was stored: %d %v", st, cur)
	}

	// Move the display to another simulator and push it from the editor.
	newDisp := pjlinksim.New(pjlinksim.Config{})
	addr, err := newDisp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { newDisp.Close() })
	oldAddr := ""
	for _, d := range e.rooms[0].Devices {
		if d.ID == "display" {
			oldAddr = d.Address
		}
	}
	pageDo(t, b, `document.querySelector("#cfg-yaml").value = `+js(strings.Replace(text, oldAddr, addr, 1))+`; document.querySelector("#cfg-save").click()`)
	waitPage(t, b, 10*time.Second, "the push stored as revision 2", `document.querySelector("#cfg-saved").textContent.includes("revision 2") && !document.querySelector("#cfg-errors li")`)
	waitPage(t, b, 15*time.Second, "the console and the editor show the agent on revision 2", room("r1")+`.querySelector('.agent[data-revision="2"]') && document.querySelector("#cfg-status").textContent.includes("the agent runs 2")`)
	testutil.Eventually(t, 10*time.Second, "the new display simulator is polled", func() bool { return newDisp.Connections() > 0 })
	pageDo(t, b, `document.querySelector("#cfg-dialog").close()`)
	waitPage(t, b, 10*time.Second, "the display reachable again", room("r1")+`.querySelector('tr[data-device="display"] button[data-action="power-on"]') && !`+room("r1")+`.querySelector('tr[data-device="display"].down')`)
	pageDo(t, b, room("r1")+`.querySelector('tr[data-device="display"] button[data-action="power-on"]').click()`)
	testutil.Eventually(t, 10*time.Second, "the page's power command reaches the new display", func() bool {
		p := newDisp.State().Power
		return p == pjlinksim.PowerWarming || p == pjlinksim.PowerOn
	})
	if p := e.sims["r1/display"].State().Power; p != pjlinksim.PowerOff {
		t.Fatalf("the old display got the command: %v", p)
	}

	// A config the agent refuses (published as a hub with other rules might): the console
	// shows the refusal and why, beside the revision the agent still runs.
	msg, err := wire.NewRoomConfig(3, []byte(`{"site":"`+site+`","room":"r1","kind":"tech-courtroom","name":"R","devices":[{"id":"projector","driver":"pjlink"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.Bus().Publish(wire.RoomTopic(site, "r1", wire.KindConfig), 1, true, wire.Encode(msg)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, b, 10*time.Second, "the refusal in the console",
		room("r1")+`.querySelector('.agent[data-revision="2"] .rejected') && `+room("r1")+`.querySelector(".rejected").textContent.includes("refused revision 3") && `+room("r1")+`.querySelector(".rejected").textContent.includes("devices[0].address")`)

	// The command console of a device shows the ack.
	pageDo(t, b, room("r1")+`.querySelector('tr[data-device="display"] button.console').click()`)
	waitPage(t, b, 5*time.Second, "the command console", `document.querySelector("#cmd-dialog").open`)
	pageDo(t, b, `const s = document.querySelector("#cmd-action"); s.value = "refresh"; s.dispatchEvent(new Event("change")); document.querySelector("#cmd-form").requestSubmit()`)
	t.Cleanup(func() {
		if t.Failed() {
			var res string
			b.Eval(5*time.Second, `document.querySelector("#cmd-result").textContent`, &res)
			t.Logf("command console: %q", res)
		}
	})
	waitPage(t, b, 10*time.Second, "the command's ack", `document.querySelector("#cmd-result").textContent.includes('"ok": true')`)
	b.Screenshot(t, screenshots("console-command.png"), 1280, 800)
	pageDo(t, b, `document.querySelector("#cmd-dialog").close()`)

	// Chinese.
	pageDo(t, b, `document.querySelector("#lang").click()`)
	waitPage(t, b, 5*time.Second, "the console in Chinese", `document.querySelector("#alarms h2 span").textContent == "当前告警" && `+room("r1")+`.querySelector("button.edit-config").textContent == "配置"`)
	b.Screenshot(t, screenshots("console-zh.png"), 1280, 800)
	pageDo(t, b, `document.querySelector("#lang").click()`)
}

// TestBrowserRecordings: a hearing recorded in the test is listed on the recordings page (by
// room and case number), plays in the page's <video> (its time advances), shows its notes as
// a timeline whose entries seek the player, and its verification; in Chinese too.
func TestBrowserRecordings(t *testing.T) {
	e, b := newBrowserEnv(t, nil)
	_, recID, _ := recordedHearing(t, e, "public", 4*time.Second)
	b.Navigate(t, e.url("/recordings.html?lang=en"))
	pageLogin(t, b, "judge", "pw-judge")
	row := `document.querySelector('#rec-list tr[data-recording="` + recID + `"]')`
	waitPage(t, b, 10*time.Second, "the recording listed", row)
	// The case number filter keeps it; another case number hides it.
	pageDo(t, b, `document.querySelector("#f-case").value = "0042"; document.querySelector("#filters").requestSubmit()`)
	waitPage(t, b, 5*time.Second, "the recording found by its case number", row+` && `+row+`.textContent.includes("CR-2026-0042")`)
	pageDo(t, b, `document.querySelector("#f-case").value = "no-such-case"; document.querySelector("#filters").requestSubmit()`)
	waitPage(t, b, 5*time.Second, "the recording filtered out", `!`+row+` && !document.querySelector("#rec-none").hidden`)
	pageDo(t, b, `document.querySelector("#f-case").value = ""; document.querySelector("#f-room").value = "`+site+`/r1"; document.querySelector("#filters").requestSubmit()`)
	waitPage(t, b, 5*time.Second, "the recording listed by room", row)

	pageDo(t, b, row+`.querySelector("button.play").click()`)
	waitPage(t, b, 10*time.Second, "the notes on the timeline", `document.querySelectorAll("#timeline button.note").length == 2`)
	waitPage(t, b, 10*time.Second, "the verification shown", `document.querySelector("#play-verify.ok")`)
	t.Cleanup(func() {
		if t.Failed() {
			var st map[string]any
			b.Eval(5*time.Second, `(() => { const v = document.querySelector("#video"); return {src: v.src, t: v.currentTime, err: v.error && v.error.message, ready: v.readyState, paused: v.paused}; })()`, &st)
			t.Logf("video: %v", st)
		}
	})
	var t0 float64
	waitPage(t, b, 15*time.Second, "the video playing", `document.querySelector("#video").currentTime > 0.3`)
	b.MustEval(t, 5*time.Second, `document.querySelector("#video").currentTime`, &t0)
	waitPage(t, b, 15*time.Second, "the video's time advancing", `document.querySelector("#video").currentTime > `+strconv.FormatFloat(t0+0.5, 'f', 2, 64))
	var size []int
	b.MustEval(t, 5*time.Second, `[document.querySelector("#video").videoWidth, document.querySelector("#video").videoHeight]`, &size)
	if len(size) != 2 || size[0] == 0 || size[1] == 0 {
		t.Errorf("the video has no picture: %v", size)
	}
	b.Screenshot(t, screenshots("recordings.png"), 1280, 800)

	// A click on the first note seeks the player to it.
	var off float64
	b.MustEval(t, 5*time.Second, `Number(document.querySelector("#timeline button.note").dataset.offset)`, &off)
	pageDo(t, b, `document.querySelector("#video").pause(); document.querySelector("#timeline button.note").click()`)
	waitPage(t, b, 10*time.Second, "the player at the first note",
		`Math.abs(document.querySelector("#video").currentTime - `+strconv.FormatFloat(off/1000, 'f', 3, 64)+`) < 1`)

	pageDo(t, b, `document.querySelector("#lang").click()`)
	waitPage(t, b, 5*time.Second, "the page in Chinese", `document.querySelector("#timeline").previousElementSibling.previousElementSibling.textContent == "庭审笔记" && document.querySelector("#play-verify").textContent.startsWith("已校验")`)
}

// TestBrowserAudit: the audit page lists the log newest first, filters it by action, pages
// through it, and verifies its chain.
func TestBrowserAudit(t *testing.T) {
	e, b := newBrowserEnv(t, nil)
	judge := e.login("judge")
	for i := 0; i < 6; i++ {
		if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
			t.Fatalf("refresh: %d %v", st, body)
		}
	}
	b.Navigate(t, e.url("/audit.html?lang=en"))
	pageLogin(t, b, "tech", "pw-tech")
	waitPage(t, b, 10*time.Second, "the audit log with the commands", `[...document.querySelectorAll("#audit-list tr[data-seq]")].some((tr) => tr.textContent.includes("command"))`)
	pageDo(t, b, `const f = document.querySelector("#filters"); f.querySelector("[name=action]").value = "command"; f.querySelector("[name=limit]").innerHTML += "<option>4</option>"; f.querySelector("[name=limit]").value = "4"; f.requestSubmit()`)
	waitPage(t, b, 10*time.Second, "a page of 4 commands", `document.querySelectorAll("#audit-list tr[data-seq]").length == 4 && [...document.querySelectorAll("#audit-list tr[data-seq]")].every((tr) => tr.children[3].textContent == "command") && !document.querySelector("#older").disabled`)
	var first []string
	b.MustEval(t, 5*time.Second, `[...document.querySelectorAll("#audit-list tr[data-seq]")].map((tr) => tr.dataset.seq)`, &first)
	pageDo(t, b, `document.querySelector("#older").click()`)
	waitPage(t, b, 10*time.Second, "the older page with the other 2", `document.querySelectorAll("#audit-list tr[data-seq]").length == 2 && document.querySelector("#older").disabled`)
	pageDo(t, b, `document.querySelector("#newer").click()`)
	waitPage(t, b, 10*time.Second, "back on the first page", `document.querySelector("#audit-list tr[data-seq]").dataset.seq == `+js(first[0]))
	pageDo(t, b, `document.querySelector("#verify").click()`)
	waitPage(t, b, 10*time.Second, "the chain verified", `document.querySelector("#verify-result.ok") && document.querySelector("#verify-result").textContent.includes("chain holds")`)
	b.Screenshot(t, screenshots("audit.png"), 1280, 800)
}

// TestBrowserConsoleDemo: the console shows every room of the demo with all its devices,
// whatever their drivers, without an error in the page; a monitor sees no editing.
func TestBrowserConsoleDemo(t *testing.T) {
	e, d := startDemo(t)
	b := browser.Start(t, browser.Options{})
	b.Navigate(t, e.url("/?lang=en"))
	pageLogin(t, b, "technician", "demo")
	rooms := d.Hub.Registry().Rooms()
	want := 0
	for _, r := range rooms {
		want += len(r.Devices)
	}
	waitPage(t, b, 20*time.Second, fmt.Sprintf("the demo's %d rooms and %d devices, every room online", len(rooms), want),
		`document.querySelectorAll("[data-room]").length == `+strconv.Itoa(len(rooms))+` && document.querySelectorAll("[data-room] tr[data-device]").length == `+strconv.Itoa(want)+
			` && document.querySelectorAll("[data-room] h3 .badge.on").length == `+strconv.Itoa(len(rooms)))
	b.Screenshot(t, screenshots("console.png"), 1280, 800)
	pageDo(t, b, `document.querySelector("#firmware").click()`)
	waitPage(t, b, 10*time.Second, "the firmware view", `document.querySelector("#fw-dialog").open && document.querySelector("#fw-list tr")`)
	pageDo(t, b, `document.querySelector("#fw-dialog").close(); document.querySelector("#logout").click()`)
	pageLogin(t, b, "monitor", "demo")
	waitPage(t, b, 20*time.Second, "the monitor's console, without editing", `document.querySelectorAll("[data-room]").length == `+strconv.Itoa(len(rooms))+
		` && !document.querySelector("button.edit-config, button.enroll, button.console, .toolbar.tech-only:not([hidden]), button[data-action]") && document.querySelector("#nav .tech-only").hidden`)
}
