// Package agent runs one room: it keeps an MQTT session (contract v1, MQTT 3.1.1, paho) with the
// hub's broker and a supervisor that drives every device of the room through its driver.
//
// # Session
//
// The session is persistent (CleanSession false), so commands the hub sends during a short
// network blip are queued by the broker and delivered on reconnect; a command's "expires"
// keeps it from running late. paho reconnects on its own, with a backoff up to
// Options.MaxBackoff, and retries the first connect too, so the agent may start before the
// broker. On every connect the agent subscribes to its commands and its config, publishes its
// retained birth and republishes every device's last state (a restarted broker has lost its
// retained messages).
//
// # Birth, will and seq
//
// The agent status on bailiff/v1/{site}/{room}/agent is retained: the birth says online:true,
// the last will (published by the broker when the connection dies without a DISCONNECT)
// says online:false. Both carry a seq, and each connection has its own: the will that
// connection registers and the birth it publishes carry the same seq. A consumer keeps the
// highest seq it has seen and ignores any status with a lower one; a status with the same
// seq and online:false means that connection is gone. This orders a late will (e.g. one the
// broker publishes when a new connection takes over a half-open old one) behind the newer
// birth.
//
// paho sends the will that is in its options at each connect attempt. The first connect
// uses the will built before the client starts; before each reconnect attempt paho calls the
// reconnecting handler with a pointer to its live options, and the agent puts in a will with
// the next seq there. The birth published from the on-connect handler reads the same seq.
//
// A seq is max(previous seq + 1, Unix time in milliseconds): strictly increasing within one
// process, and across restarts too as long as the clock does not go back, because a process
// cannot connect more than once a millisecond for long.
//
// On a clean shutdown the agent publishes online:false with the seq of its last connection
// itself (a DISCONNECT discards the will), then disconnects.
//
// # Commands
//
// The paho message handler only decodes and enqueues: a command goes to its device's bounded
// queue (full: the command is acked busy), and the few answers the handler makes itself
// (bad_args for a malformed command whose id can be recovered, unsupported for an unknown
// device, busy) go through a small outbox drained by its own goroutine, so the handler never
// waits on the network. Each device has one goroutine that runs its commands one at a time in
// arrival order and polls its health between them. Every command ends in exactly one ack.
//
// # Media
//
// A room config's media section names the streams the agent publishes and the streams its
// speakers play (package media/source): each stream is published over WHIP to
// {hub}/whip/{site}/{room}/{name} (the hub from Options.HubURL, else media.hub) with the Bearer
// token MediaToken(site, room, password), and kept published across camera and hub restarts.
// Media runs beside the devices and the MQTT session, from Run's start to its end; a source
// this build cannot run (a microphone or speaker without cgo) is left out with an error in the
// log.
package agent
