package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/browser"
)

// The media pages in headless Chromium against the demo (its rooms, simulators, camera
// streams and loopback TURN relay): the judge starts a hearing from the panel and the
// courtroom's projector simulator powers on; the judge picks the program's camera by hand and
// turns voice following back on; a note written on the panel is in the API; a
// visitor joins from an invite link and the panel shows them connected; the room display
// follows the hearing and plays the visitor; the wall decodes a rising number of frames; the
// language switch shows Chinese. BAILIFF_SCREENSHOTS=1 writes each page to docs/screenshots.
func TestBrowserPanels(t *testing.T) {
	e, d := startDemo(t)
	const site, room = "demo-court", "courtroom-1"
	judge := e.demoLogin("judge")
	e.waitReady(judge, site, room, "projector", "rec-lamp", "cam-bench", "matrix")
	b := browser.Start(t, browser.Options{Timeout: 3 * time.Minute})
	shots := os.Getenv("BAILIFF_SCREENSHOTS") == "1"
	shot := func(tab *browser.Browser, name string) {
		if !shots {
			return
		}
		time.Sleep(time.Second) // let the meters and feeds draw
		if err := tab.SavePNG(filepath.Join("..", "..", "docs", "screenshots", name+".png"), 1280, 800, 0.6); err != nil {
			t.Error(err)
		}
	}
	// wait polls a JavaScript condition on a tab.
	wait := func(tab *browser.Browser, what, cond string, timeout time.Duration) {
		t.Helper()
		testutil.Eventually(t, timeout, what, func() bool {
			var ok bool
			return tab.Eval(5*time.Second, `!!(`+cond+`)`, &ok) == nil && ok
		})
	}
	do := func(tab *browser.Browser, expr string) {
		t.Helper()
		tab.MustEval(t, 20*time.Second, `(() => { `+expr+`; return true; })()`, nil)
	}
	loginAs := func(tab *browser.Browser, user string) {
		t.Helper()
		wait(tab, "the login form", `document.querySelector("form.login") && !document.querySelector("form.login").hidden`, 10*time.Second)
		do(tab, `const f = document.querySelector("form.login"); f.user.value = `+js(user)+`; f.password.value = "demo"; f.requestSubmit()`)
		wait(tab, user+" logged in", `!document.querySelector("main").hidden`, 10*time.Second)
	}
	q := "?site=" + site + "&room=" + room + "&lang=en&relay=1"

	// The judge's panel: a new hearing, started.
	jt := b.Tab(t)
	jt.Viewport(t, 1280, 800)
	jt.Navigate(t, e.url("/judge.html"+q))
	t.Cleanup(func() {
		if t.Failed() {
			var msg string
			jt.Eval(5*time.Second, `document.querySelector("#hearing-state").dataset.state + " | " + document.querySelector("#hearing-msg").textContent`, &msg)
			_, list := e.call("GET", "/api/v1/hearings?site="+site+"&room="+room, judge, nil)
			t.Logf("judge's panel: %s; the hearings: %v", msg, list)
		}
	})
	loginAs(jt, "judge")
	do(jt, `const f = document.querySelector("#new-hearing"); f.elements.case.value = "CR-2026-0042"; f.requestSubmit()`)
	wait(jt, "the new hearing ready to start", `document.querySelector("#hearing-pick").selectedOptions[0]?.textContent.startsWith("CR-2026-0042") && !document.querySelector("#start").disabled`, 10*time.Second)
	if p := projectorPower(t, d, site+"/"+room+"/projector"); p != pjlinksim.PowerOff {
		t.Fatalf("projector power %v before the hearing", p)
	}
	do(jt, `document.querySelector("#start").click()`)
	wait(jt, "the panel shows the hearing in session", `document.querySelector("#hearing-state").dataset.state === "in-session"`, 30*time.Second)
	testutil.Eventually(t, 10*time.Second, "the projector simulator powered on", func() bool {
		p := projectorPower(t, d, site+"/"+room+"/projector")
		return p == pjlinksim.PowerOn || p == pjlinksim.PowerWarming
	})
	wait(jt, "the recording indicator", `!document.querySelector("#rec").hidden`, 10*time.Second)

	// Bench conference: privacy on from the panel.
	do(jt, `document.querySelector("#privacy").click()`)
	wait(jt, "the privacy button pressed", `document.querySelector("#privacy").getAttribute("aria-pressed") === "true"`, 20*time.Second)
	testutil.Eventually(t, 5*time.Second, "the room's privacy flag raised", func() bool { return d.Hub.Privacy(site, room) })
	jt.Navigate(t, e.url("/judge.html"+q)) // a panel opened during a bench conference shows it
	wait(jt, "the reopened panel in session", `document.querySelector("#hearing-state").dataset.state === "in-session"`, 10*time.Second)
	wait(jt, "the reopened panel's privacy pressed", `document.querySelector("#privacy").getAttribute("aria-pressed") === "true"`, 10*time.Second)
	do(jt, `document.querySelector("#privacy").click()`)
	testutil.Eventually(t, 20*time.Second, "the room's privacy flag lowered", func() bool { return !d.Hub.Privacy(site, room) })

	// The program: voice following on; the judge picks another camera by hand (following
	// goes off), the panel follows a camera picked through the API, and the judge turns
	// following back on.
	wait(jt, "the program with voice following on", `!document.querySelector("#program").hidden && document.querySelector("#follow").getAttribute("aria-pressed") === "true"`, 10*time.Second)
	program := func() (camera string, follow bool) {
		st, v := e.call("GET", "/api/v1/rooms/"+site+"/"+room+"/program", judge, nil)
		if st != 200 {
			t.Fatalf("GET program: %d %v", st, v)
		}
		camera, _ = v["camera"].(string)
		follow, _ = v["follow"].(bool)
		return camera, follow
	}
	var other string
	jt.MustEval(t, 5*time.Second, `document.querySelector('#program-cams button[aria-pressed="false"]')?.dataset.camera || ""`, &other)
	if other == "" {
		t.Fatal("the program section shows no other camera")
	}
	do(jt, `document.querySelector('#program-cams button[data-camera=`+js(other)+`]').click()`)
	testutil.Eventually(t, 10*time.Second, "the program on "+other+" by hand", func() bool {
		c, f := program()
		return c == other && !f
	})
	wait(jt, "the panel shows "+other+" on air and following off", `document.querySelector('#program-cams button[data-camera=`+js(other)+`]')?.getAttribute("aria-pressed") === "true" && document.querySelector("#follow").getAttribute("aria-pressed") === "false"`, 10*time.Second)
	// A camera picked elsewhere (the API) shows on the panel from the program event.
	var back string
	jt.MustEval(t, 5*time.Second, `document.querySelector('#program-cams button[aria-pressed="false"]')?.dataset.camera || ""`, &back)
	if st, v := e.call("PUT", "/api/v1/rooms/"+site+"/"+room+"/program", judge, map[string]any{"camera": back}); st != 200 {
		t.Fatalf("PUT program camera %q: %d %v", back, st, v)
	}
	wait(jt, "the panel shows "+back+" on air from the event", `document.querySelector('#program-cams button[data-camera=`+js(back)+`]')?.getAttribute("aria-pressed") === "true" && document.querySelector('#program-cams button[data-camera=`+js(other)+`]')?.getAttribute("aria-pressed") === "false"`, 10*time.Second)
	do(jt, `document.querySelector("#follow").click()`)
	testutil.Eventually(t, 10*time.Second, "voice following back on", func() bool {
		_, f := program()
		return f
	})
	wait(jt, "the panel shows following on", `document.querySelector("#follow").getAttribute("aria-pressed") === "true"`, 10*time.Second)

	// Display sources: the matrix routes input 3 to output 1.
	wait(jt, "the display sources", `document.querySelector('#displays select[data-output="1"]')`, 10*time.Second)
	do(jt, `const s = document.querySelector('#displays select[data-output="1"]'); s.value = "3"; s.dispatchEvent(new Event("change"))`)
	testutil.Eventually(t, 10*time.Second, "the matrix routes input 3 to output 1", func() bool {
		_, body := e.call("GET", "/api/v1/rooms/"+site+"/"+room, judge, nil)
		devs, _ := body["devices"].([]any)
		for _, x := range devs {
			if m := x.(map[string]any); m["id"] == "matrix" {
				st, _ := m["state"].(map[string]any)
				video, _ := st["video"].(map[string]any)
				return fmt.Sprint(video["1"]) == "3"
			}
		}
		return false
	})

	// Microphone levels from the room's meter topic move the panel's meters.
	meter := []byte(`{"levels":{"mics-ceiling/1":-12,"mics-ceiling/2":-90},"at":"2026-11-29T10:00:00Z"}`)
	testutil.Eventually(t, 10*time.Second, "the panel's meters", func() bool {
		if err := d.Hub.Bus().Publish("bailiff/v1/"+site+"/"+room+"/meter", 0, false, meter); err != nil {
			t.Fatal(err)
		}
		var w string
		jt.Eval(5*time.Second, `document.querySelector('#meters [data-mic="mics-ceiling/1"] .fill')?.style.width || ""`, &w)
		return w == "80%"
	})

	// A note written on the panel is in the hearing's record.
	do(jt, `const f = document.querySelector("#note"); f.elements.text.value = "Witness sworn in"; f.requestSubmit()`)
	wait(jt, "the note listed", `[...document.querySelectorAll("#notes li")].some((li) => li.textContent.includes("Witness sworn in"))`, 10*time.Second)
	st, list := e.call("GET", "/api/v1/hearings?site="+site+"&room="+room+"&state=in-session", judge, nil)
	items, _ := list["list"].([]any)
	if st != 200 || len(items) != 1 {
		t.Fatalf("hearings in session: %d %v", st, list)
	}
	hid := items[0].(map[string]any)["id"].(string)
	st, notes := e.call("GET", "/api/v1/hearings/"+hid+"/notes", judge, nil)
	if ns, _ := notes["notes"].([]any); st != 200 || len(ns) != 1 || ns[0].(map[string]any)["text"] != "Witness sworn in" || ns[0].(map[string]any)["user"] != "judge" {
		t.Errorf("notes through the API: %d %v", st, notes)
	}

	// A remote party, invited from the panel, joins from the link.
	do(jt, `const f = document.querySelector("#invite"); f.elements.name.value = "J. Witness"; f.requestSubmit()`)
	wait(jt, "the invite link", `document.querySelector("#invite-url").value.includes("/join#invite.")`, 10*time.Second)
	var link string
	jt.MustEval(t, 5*time.Second, `document.querySelector("#invite-url").value`, &link)
	vt := b.Tab(t)
	vt.Viewport(t, 1280, 800)
	vt.Navigate(t, strings.Replace(link, "/join#", "/join?lang=en#", 1))
	wait(vt, "the camera check", `!document.querySelector("#join").disabled`, 15*time.Second)
	wait(vt, "the microphone's level", `Number(document.querySelector("#mic-level").dataset.db) > -200`, 10*time.Second)
	do(vt, `document.querySelector("#join").click()`)
	wait(vt, "the visitor connected", `document.querySelector("#state").dataset.joined === "yes"`, 30*time.Second)
	wait(jt, "the panel shows the visitor connected", `document.querySelector("#parties li[data-connected=yes]")`, 20*time.Second)
	wait(vt, "the visitor sees the court", `[...document.querySelectorAll("#feeds video")].some((v) => v.getVideoPlaybackQuality().totalVideoFrames > 5)`, 30*time.Second)
	shot(jt, "judge")
	shot(vt, "join")

	// The room display follows the hearing and shows the visitor.
	dt := b.Tab(t)
	dt.Viewport(t, 1280, 800)
	dt.Navigate(t, e.url("/display.html"+q))
	loginAs(dt, "monitor")
	wait(dt, "the display in session", `document.querySelector("#state").dataset.state === "in-session"`, 10*time.Second)
	wait(dt, "the display plays the visitor", `[...document.querySelectorAll("#feeds video")].some((v) => v.dataset.stream.startsWith("visitor-") && v.getVideoPlaybackQuality().totalVideoFrames > 5)`, 30*time.Second)
	shot(dt, "display")

	// The wall: live video from every room, decoded frames rising.
	wt := b.Tab(t)
	wt.Viewport(t, 1280, 800)
	wt.Navigate(t, e.url("/wall.html?lang=en&relay=1"))
	loginAs(wt, "monitor")
	frames := `[...document.querySelectorAll("#feeds video")].reduce((n, v) => n + v.getVideoPlaybackQuality().totalVideoFrames, 0)`
	wait(wt, "the wall decodes video", frames+` > 10`, 40*time.Second)
	var first int
	wt.MustEval(t, 5*time.Second, frames, &first)
	wait(wt, "the wall's frames rise", fmt.Sprintf(`%s > %d`, frames, first+20), 30*time.Second)
	wait(wt, "the courtroom in session on the wall", `document.querySelector('#rooms li[data-room="demo-court/courtroom-1"]').dataset.hearing === "in-session"`, 10*time.Second)
	shot(wt, "wall")
	// Sound from one feed at a time; a tap enlarges a feed.
	do(wt, `const b = document.querySelectorAll("#feeds .sound-btn"); b[0].click(); b[1].click()`)
	var unmuted int
	wt.MustEval(t, 5*time.Second, `[...document.querySelectorAll("#feeds video")].filter((v) => !v.muted).length`, &unmuted)
	if unmuted != 1 {
		t.Errorf("%d of the wall's feeds play sound, want 1", unmuted)
	}
	do(wt, `document.querySelector("#feeds video").click()`)
	wait(wt, "a feed enlarged", `document.querySelector("#feeds .feed.big")`, 5*time.Second)

	// The judge pauses the hearing: the display follows by itself.
	do(jt, `document.querySelector("#pause").click()`)
	wait(dt, "the display paused", `document.querySelector("#state").dataset.state === "paused"`, 20*time.Second)

	// The judge revokes the invite: the visitor's page says so, the display drops the feed.
	do(jt, `document.querySelector("#parties li[data-connected=yes] button").click()`)
	wait(vt, "the visitor told the invite is revoked", `document.querySelector("#message").dataset.reason === "join.revoked" && !document.querySelector("#message").hidden`, 20*time.Second)
	wait(dt, "the display without the visitor", `document.querySelectorAll("#feeds video").length === 0`, 20*time.Second)
	// A link cut short, and the page without one, say so.
	vt.Navigate(t, e.url("/join?lang=en#invite.cut-short"))
	wait(vt, "a broken link explained", `document.querySelector("#message").dataset.reason === "join.invalid"`, 10*time.Second)
	vt.Navigate(t, e.url("/join?lang=en"))
	wait(vt, "a missing token explained", `document.querySelector("#message").dataset.reason === "join.no-token"`, 10*time.Second)
	if strings.Contains(b.Log(), "CSP violation") || strings.Contains(b.Log(), "exception:") {
		t.Errorf("the pages broke their policy or threw:\n%s", b.Log())
	}

	// The language switch: the panel in Chinese.
	do(jt, `document.querySelector("#lang").click()`)
	wait(jt, "the panel in Chinese", `document.querySelector("#resume").textContent === "续庭" && document.querySelector("#follow").textContent === "语音跟踪" && document.querySelector("#lang").textContent === "English" && document.documentElement.lang === "zh-CN"`, 5*time.Second)
	shot(jt, "judge-zh")
}
