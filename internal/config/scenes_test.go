package config_test

import (
	"encoding/json"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
)

const sceneRoom = goodRoom + `scenes:
  - name: start-hearing
    title: Start hearing
    steps:
      - parallel:
          - {device: projector, action: power, args: {on: true}, timeout: 3s}
          - {device: display-left, action: input, args: {source: "31"}, on_error: continue}
      - hub: start-recording
      - device: projector
        action: preset
        args:
          recall: 2
  - name: privacy-on
    on_error: continue
    steps:
      - hub: privacy-on
`

func TestScenesGood(t *testing.T) {
	r, err := config.ParseRoom("rooms/courtroom-1.yaml", []byte(sceneRoom))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scenes) != 2 {
		t.Fatalf("scenes = %+v", r.Scenes)
	}
	sc, ok := r.Scene("start-hearing")
	if !ok || sc.Title != "Start hearing" || len(sc.Steps) != 3 || len(sc.Steps[0].Parallel) != 2 {
		t.Fatalf("start-hearing = %+v", sc)
	}
	p := sc.Steps[0].Parallel
	if string(p[0].Args) != `{"on":true}` || p[0].Timeout.D() != 3*time.Second || string(p[1].Args) != `{"source":"31"}` {
		t.Errorf("parallel = %+v (args %s, %s)", p, p[0].Args, p[1].Args)
	}
	if string(sc.Steps[2].Args) != `{"recall":2}` || sc.Steps[1].Hub != config.HubStartRecording {
		t.Errorf("steps = %+v", sc.Steps)
	}
	if got := sc.StepOnError(p[1]); got != config.OnErrorContinue {
		t.Errorf("on_error of parallel[1] = %s", got)
	}
	if got := sc.StepOnError(p[0]); got != config.OnErrorAbort {
		t.Errorf("default on_error = %s", got)
	}
	priv, _ := r.Scene("privacy-on")
	if priv.StepOnError(priv.Steps[0]) != config.OnErrorContinue {
		t.Error("the scene's on_error is not the default of its steps")
	}

	// JSON (what a config push carries) and YAML round trips keep the args as they are.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back config.Room
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Scenes[0].Steps[0].Parallel[0].Args) != `{"on":true}` {
		t.Errorf("JSON round trip: %s", b)
	}
	y, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := config.ParseRoom("again.yaml", y)
	if err != nil {
		t.Fatalf("YAML round trip:\n%s\n%v", y, err)
	}
	if string(again.Scenes[0].Steps[2].Args) != `{"recall":2}` {
		t.Errorf("YAML round trip: %s", y)
	}
}

func TestScenesBad(t *testing.T) {
	const file = "rooms/courtroom-1.yaml"
	bad := goodRoom + `scenes:
  - name: Start_Hearing
    on_error: ignore
    steps:
      - {device: projecter, action: power, args: {on: true}}
      - {device: projector, action: power, args: {on: yes}}
      - {device: projector, action: explode}
      - {device: projector, action: power, args: [1, 2]}
      - hub: start-recordin
      - {hub: privacy-on, device: projector}
      - {}
      - {device: projector, action: refresh, timeout: 10m}
      - parallel:
          - {device: projector, action: refresh}
          - {device: projector, action: power, args: {on: false}}
          - parallel: [{hub: privacy-on}]
  - name: start-hearing
    steps: []
  - name: start-hearing
    steps:
      - {action: refresh}
`
	_, err := config.ParseRoom(file, []byte(bad))
	checkErr(t, err, []string{
		file + `:16: scenes[0].name: invalid scene ID "Start_Hearing": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`,
		file + `:17: scenes[0].on_error: unknown on_error "ignore"; want one of abort, continue`,
		file + `:19: scenes[0].steps[0].device: no device "projecter" in this room (did you mean "projector"?)`,
		file + `:20: scenes[0].steps[1].args: power: json: cannot unmarshal string into Go struct field PowerArgs.on of type bool`,
		file + `:21: scenes[0].steps[2].action: unknown action "explode"; want one of blank, firmware.update, gain, input, mute, power, preset, print, ptz, pulse, refresh, relay, route, tally`,
		file + `:22: scenes[0].steps[3].args: want a mapping of arguments (e.g. {on: true}), got a list`,
		file + `:23: scenes[0].steps[4].hub: unknown hub action "start-recordin" (did you mean "start-recording"?); want one of start-recording, stop-recording, privacy-on, privacy-off`,
		file + `:24: scenes[0].steps[5]: a step is one of: device and action, hub, or parallel; this one mixes them`,
		file + `:25: scenes[0].steps[6]: empty step: want device and action, hub, or parallel`,
		file + `:26: scenes[0].steps[7].timeout: must be 0 (the hub's commands.timeout) or between 100ms and 5m, got 10m`,
		file + `:29: scenes[0].steps[8].parallel[1].device: device "projector" is already in this group (parallel[0]): a device runs one command at a time, so put them in sequence`,
		file + `:30: scenes[0].steps[8].parallel[2].parallel: parallel groups do not nest`,
		file + `:32: scenes[1].steps: required: a scene has at least one step`,
		file + `:33: scenes[2].name: duplicate scene "start-hearing" (also scenes[1])`,
		file + `:35: scenes[2].steps[0].device: required with action`,
	})
}
