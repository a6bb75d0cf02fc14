package frame

import "fmt"

// ProtoVersion is the protocol version this package speaks, sent first in the hello.
const ProtoVersion = 1

// Sizes (protocol §2.3).
const (
	// MaxFrame is the largest frame before COBS: type byte, payload and CRC.
	MaxFrame = 512
	// MaxPayload is the largest payload of one message.
	MaxPayload = MaxFrame - 3
	// MaxEncoded is the largest frame on the wire, delimiter not counted.
	MaxEncoded = MaxFrame + MaxFrame/254 + 1
	// MaxChunk is the most image bytes one UpdateChunk carries.
	MaxChunk = MaxPayload - 4
	// MaxFields is the most fields a State, Event, Command or Ack carries.
	MaxFields = 32
	// MaxString is the longest device type or serial number.
	MaxString = 32
)

// Type is a message type, the first byte of a frame.
type Type uint8

// Message types (protocol §3). D→H: device to host (the agent); H→D: host to device.
const (
	TypeHello          Type = 0x01 // D→H
	TypeHelloRequest   Type = 0x02 // H→D
	TypePing           Type = 0x03 // both
	TypePong           Type = 0x04 // both
	TypeState          Type = 0x10 // D→H
	TypeEvent          Type = 0x11 // D→H
	TypeCommand        Type = 0x20 // H→D
	TypeAck            Type = 0x21 // D→H
	TypeUpdateBegin    Type = 0x30 // H→D
	TypeUpdateChunk    Type = 0x31 // H→D
	TypeUpdateChunkAck Type = 0x32 // D→H
	TypeUpdateVerify   Type = 0x33 // H→D
	TypeUpdateReboot   Type = 0x34 // H→D
	TypeUpdateConfirm  Type = 0x35 // H→D
	TypeUpdateStatus   Type = 0x36 // D→H
	TypeUpdateAbort    Type = 0x37 // H→D
)

var typeNames = map[Type]string{
	TypeHello: "hello", TypeHelloRequest: "hello-request", TypePing: "ping", TypePong: "pong",
	TypeState: "state", TypeEvent: "event", TypeCommand: "command", TypeAck: "ack",
	TypeUpdateBegin: "update-begin", TypeUpdateChunk: "update-chunk",
	TypeUpdateChunkAck: "update-chunk-ack", TypeUpdateVerify: "update-verify",
	TypeUpdateReboot: "update-reboot", TypeUpdateConfirm: "update-confirm",
	TypeUpdateStatus: "update-status", TypeUpdateAbort: "update-abort",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type-0x%02x", uint8(t))
}

// Message is one of the message types of this package (*Hello, *Ping, …).
type Message interface {
	Type() Type
	appendPayload(b []byte) ([]byte, error)
	decodePayload(r *reader)
}

// Version is a firmware version; versions compare by Major, then Minor, then Patch.
type Version struct{ Major, Minor, Patch uint16 }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or 1 as v is older than, the same as, or newer than w.
func (v Version) Compare(w Version) int {
	for _, d := range [][2]uint16{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return 1
		}
	}
	return 0
}

// Caps is the capability bitmask of a hello (protocol §3.1).
type Caps uint32

const (
	CapTally      Caps = 1 << 0  // a tally light (key KeyTally)
	CapButton     Caps = 1 << 1  // one or more buttons (events, key KeyButton)
	CapSign       Caps = 1 << 2  // an on/off sign (key KeySign)
	CapRelay      Caps = 1 << 3  // a relay (key KeyRelay, pulse)
	CapKeypad     Caps = 1 << 4  // a keypad (EventKey)
	CapBrightness Caps = 1 << 5  // dimmable (key KeyBrightness)
	CapUpdate     Caps = 1 << 31 // accepts firmware updates (§3.6)
)

// Hello flags.
const (
	HelloPending    uint8 = 1 << 0 // running an image not yet confirmed
	HelloRolledBack uint8 = 1 << 1 // the last update was rolled back
)

// Hello is the first thing a device says after boot and its answer to HelloRequest.
type Hello struct {
	Proto      uint8 // ProtoVersion; Marshal sends ProtoVersion when 0
	Flags      uint8 // HelloPending, HelloRolledBack
	Caps       Caps
	MaxFrame   uint16 // the largest frame the device receives, 16…MaxFrame
	Version    Version
	DeviceType string // [a-z0-9-], 1…MaxString bytes, e.g. "tally-light"
	Serial     string // printable ASCII without space, 0…MaxString bytes
}

// HelloRequest asks a device for its hello.
type HelloRequest struct{}

// Ping asks the peer for a Pong with the same nonce.
type Ping struct{ Nonce uint32 }

// Pong answers a Ping.
type Pong struct{ Nonce uint32 }

// Key names one value of a device's state (protocol §3.3).
type Key uint8

const (
	KeyTally      Key = 0x01 // 0 off, 1 red (program), 2 green (preview), 3 amber
	KeySign       Key = 0x02 // 0 off, 1 on
	KeyButton     Key = 0x03 // 1 while held
	KeyRelay      Key = 0x04 // 0 open, 1 closed; a pulse command gives ms
	KeyBrightness Key = 0x05 // 0…100 %
	KeyIndex      Key = 0x06 // which button or key an event is about, from 0
	KeyCode       Key = 0x07 // a keypad key code, a fault code
	KeyUptime     Key = 0x08 // seconds since boot
)

// Field is one keyed value.
type Field struct {
	Key   Key
	Value int32
}

// State is the device's state, sent when it changes and in answer to ActionGet.
type State struct{ Fields []Field }

// EventCode says what happened at the device.
type EventCode uint8

const (
	EventButtonPress   EventCode = 0x01
	EventButtonRelease EventCode = 0x02
	EventKey           EventCode = 0x03
	EventFault         EventCode = 0x04
)

// Event is something that happened at the device.
type Event struct {
	Code   EventCode
	Fields []Field
}

// Action is what a Command asks.
type Action uint8

const (
	ActionSet   Action = 0x01 // set every field's key to its value
	ActionPulse Action = 0x02 // pulse every field's key for value ms
	ActionGet   Action = 0x03 // no fields; the Ack carries the whole state
)

// Command asks the device to do something; it answers with an Ack of the same ID.
type Command struct {
	ID     uint16
	Action Action
	Fields []Field
}

// Status is the outcome of a Command, mapping onto the contract's error codes.
type Status uint8

const (
	StatusOK          Status = 0x00
	StatusUnsupported Status = 0x01 // unsupported
	StatusBadArgs     Status = 0x02 // bad_args
	StatusBusy        Status = 0x03 // busy
	StatusDeviceError Status = 0x04 // device_error
)

// Ack answers a Command; Fields is the device's state after it.
type Ack struct {
	ID     uint16
	Status Status
	Fields []Field
}

// Update flags.
const (
	UpdateForce uint8 = 1 << 0 // accept a downgrade or the same version
)

// UpdateBegin starts (or resumes) an update with the image's signed manifest.
type UpdateBegin struct {
	Size       uint32
	Version    Version
	ChunkSize  uint16 // the largest chunk the host will send, 1…MaxChunk
	Flags      uint8  // UpdateForce
	SHA256     [32]byte
	Signature  [64]byte // ed25519 over the manifest (§3.6, update-begin)
	DeviceType string
}

// UpdateChunk carries image bytes at Offset.
type UpdateChunk struct {
	Offset uint32
	Data   []byte // 1…MaxChunk bytes
}

// ChunkStatus is a device's answer to a chunk.
type ChunkStatus uint8

const (
	ChunkOK         ChunkStatus = 0x00 // stored; Next is the next offset wanted
	ChunkResend     ChunkStatus = 0x01 // not at the offset wanted: send from Next
	ChunkWriteError ChunkStatus = 0x02 // flash write failed; the update is failed
	ChunkNoSession  ChunkStatus = 0x03 // no update in progress
)

// UpdateChunkAck answers an UpdateChunk.
type UpdateChunkAck struct {
	Next   uint32
	Status ChunkStatus
}

// UpdateVerify asks the device to check the image's hash and signature.
type UpdateVerify struct{}

// UpdateReboot asks the device to boot the verified image as pending.
type UpdateReboot struct{}

// UpdateConfirm tells a device running a pending image that the host saw it come back; the
// device confirms the image once its own self-test passed.
type UpdateConfirm struct{}

// Phase is where a device is in an update.
type Phase uint8

const (
	PhaseIdle       Phase = 0x00
	PhaseReceiving  Phase = 0x01
	PhaseVerifying  Phase = 0x02
	PhaseVerified   Phase = 0x03
	PhasePending    Phase = 0x04 // running the new image, not yet confirmed
	PhaseConfirmed  Phase = 0x05
	PhaseRolledBack Phase = 0x06
	PhaseFailed     Phase = 0x07
)

// Reason says why an update failed, was refused or rolled back.
type Reason uint8

const (
	ReasonNone         Reason = 0x00
	ReasonBadSignature Reason = 0x01
	ReasonWrongType    Reason = 0x02
	ReasonDowngrade    Reason = 0x03
	ReasonBadHash      Reason = 0x04
	ReasonTooLarge     Reason = 0x05
	ReasonFlashError   Reason = 0x06
	ReasonAborted      Reason = 0x07
	ReasonSelfTest     Reason = 0x08
	ReasonTimeout      Reason = 0x09
	ReasonBusy         Reason = 0x0A
)

// UpdateStatus reports the device's update phase; it answers UpdateBegin, UpdateVerify,
// UpdateReboot (before rebooting), UpdateConfirm and UpdateAbort.
type UpdateStatus struct {
	Phase   Phase
	Reason  Reason
	Offset  uint32  // image bytes held
	Version Version // the image concerned
}

// UpdateAbort ends the update in progress; the running image is kept.
type UpdateAbort struct{ Reason Reason }

func (*Hello) Type() Type          { return TypeHello }
func (*HelloRequest) Type() Type   { return TypeHelloRequest }
func (*Ping) Type() Type           { return TypePing }
func (*Pong) Type() Type           { return TypePong }
func (*State) Type() Type          { return TypeState }
func (*Event) Type() Type          { return TypeEvent }
func (*Command) Type() Type        { return TypeCommand }
func (*Ack) Type() Type            { return TypeAck }
func (*UpdateBegin) Type() Type    { return TypeUpdateBegin }
func (*UpdateChunk) Type() Type    { return TypeUpdateChunk }
func (*UpdateChunkAck) Type() Type { return TypeUpdateChunkAck }
func (*UpdateVerify) Type() Type   { return TypeUpdateVerify }
func (*UpdateReboot) Type() Type   { return TypeUpdateReboot }
func (*UpdateConfirm) Type() Type  { return TypeUpdateConfirm }
func (*UpdateStatus) Type() Type   { return TypeUpdateStatus }
func (*UpdateAbort) Type() Type    { return TypeUpdateAbort }

func newMessage(t Type) Message {
	switch t {
	case TypeHello:
		return &Hello{}
	case TypeHelloRequest:
		return &HelloRequest{}
	case TypePing:
		return &Ping{}
	case TypePong:
		return &Pong{}
	case TypeState:
		return &State{}
	case TypeEvent:
		return &Event{}
	case TypeCommand:
		return &Command{}
	case TypeAck:
		return &Ack{}
	case TypeUpdateBegin:
		return &UpdateBegin{}
	case TypeUpdateChunk:
		return &UpdateChunk{}
	case TypeUpdateChunkAck:
		return &UpdateChunkAck{}
	case TypeUpdateVerify:
		return &UpdateVerify{}
	case TypeUpdateReboot:
		return &UpdateReboot{}
	case TypeUpdateConfirm:
		return &UpdateConfirm{}
	case TypeUpdateStatus:
		return &UpdateStatus{}
	case TypeUpdateAbort:
		return &UpdateAbort{}
	}
	return nil
}
