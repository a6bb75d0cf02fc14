package config_test

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

const queueRoom = `site: demo-court
room: hall
kind: litigation-hall
name: Hall
devices:
  - id: button
    driver: gpio
    options: {pin: GPIO5, mode: button}
  - id: printer
    driver: escpos
    address: 10.0.0.9
  - id: display
    driver: pjlink
    address: 10.0.0.6
queue:
`

func TestQueueConfig(t *testing.T) {
	r, err := config.ParseRoom("hall.yaml", []byte(queueRoom+`  time_zone: Asia/Shanghai
  reset: "05:30"
  recall_within: 2
  services:
    - {id: A, name: Filing, names: {zh: 立案}}
    - {id: legal-aid, prefix: LA, name: Legal aid, digits: 4}
  windows:
    - {id: w1, name: Window 1, services: [A, legal-aid], policy: longest-wait}
  buttons:
    - {device: button, event: button, match: {pressed: true}, service: A, printer: printer, priority: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	q := r.Queue
	if !q.Enabled() || q.Recalls() != 2 || q.Services[1].PrefixOf() != "LA" || q.Services[1].DigitsOf() != 4 || q.Services[0].PrefixOf() != "A" {
		t.Errorf("queue = %+v", q)
	}
	if at, ok := q.ResetAt(); !ok || at != 5*time.Hour+30*time.Minute {
		t.Errorf("reset = %v %v", at, ok)
	}
	if q.Location().String() != "Asia/Shanghai" {
		t.Errorf("location %v", q.Location())
	}
	if b := q.Buttons[0]; !b.IsPriority() || b.Match["pressed"] != "true" {
		t.Errorf("button %+v", b)
	}
	if q.Services[0].Names["zh"] != "立案" {
		t.Errorf("names %v", q.Services[0].Names)
	}
}

func TestQueueConfigErrors(t *testing.T) {
	_, err := config.ParseRoom("hall.yaml", []byte(queueRoom+`  time_zone: Mars/Olympus
  reset: "25:00"
  recall_within: many
  status_url: ftp://x
  printers: [display]
  services:
    - {id: A, name: Filing}
    - {id: A, name: Again}
    - {id: b c, name: Bad}
    - {id: long, name: Long}
  windows:
    - {id: w1, name: Window 1, services: [A, X, A], policy: fastest}
    - {id: w2, name: Window 2}
  buttons:
    - {device: nope, service: Z, printer: button, priority: maybe}
`))
	checkErr(t, err, []string{
		`hall.yaml:16: queue.time_zone: unknown time zone "Mars/Olympus": want an IANA name such as Asia/Shanghai or UTC`,
		`hall.yaml:17: queue.reset: want a time of day HH:MM (e.g. "00:00") or "off", got "25:00"`,
		`hall.yaml:18: queue.recall_within: want a number of calls 0-100, got "many"`,
		`hall.yaml:19: queue.status_url: want an http:// or https:// URL of at most 500 characters without control characters`,
		`hall.yaml:20: queue.printers[0]: device "display" is a pjlink, not a ticket printer (escpos)`,
		`hall.yaml:23: queue.services[1].id: duplicate service ID "A" (also queue.services[0])`,
		`hall.yaml:23: queue.services[1].prefix: prefix "A" is already used by queue.services[0]`,
		`hall.yaml:24: queue.services[2].id: invalid service ID "b c": want 1-16 letters, digits or '-'`,
		`hall.yaml:24: queue.services[2].id: number prefix "B C": want 1-3 capital letters or digits (set prefix when the ID is not one)`,
		`hall.yaml:25: queue.services[3].id: number prefix "LONG": want 1-3 capital letters or digits (set prefix when the ID is not one)`,
		`hall.yaml:27: queue.windows[0].services[1]: unknown service "X" (did you mean "A"?); services: A, A, b c, long`,
		`hall.yaml:27: queue.windows[0].services[2]: service "A" is listed twice`,
		`hall.yaml:27: queue.windows[0].policy: unknown policy "fastest"; want one of first-come, longest-wait`,
		`hall.yaml:28: queue.windows[1].services: required: the services this window serves, in order`,
		`hall.yaml:30: queue.buttons[0].device: no device "nope" in this room`,
		`hall.yaml:30: queue.buttons[0].event: required: the event type, e.g. button`,
		`hall.yaml:30: queue.buttons[0].service: unknown service "Z" (did you mean "A"?); services: A, A, b c, long`,
		`hall.yaml:30: queue.buttons[0].priority: want true or false, got "maybe"`,
		`hall.yaml:30: queue.buttons[0].printer: device "button" is a gpio, not a ticket printer (escpos)`,
	})
}
