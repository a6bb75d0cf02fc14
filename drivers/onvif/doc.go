// Package onvif drives ONVIF PTZ cameras: pan, tilt and zoom at a velocity, presets, and the
// position as state.
//
// The protocol documents are the ONVIF Core Specification (ver. 19.12 or later), the PTZ
// Service Specification and the Media Service Specification, and the OASIS WS-Security
// UsernameToken Profile 1.0. Sections used:
//
//   - Core §5.11 errors: SOAP 1.2 faults, env:Sender / env:Receiver with ter: subcodes
//     (§5.11.2.2 generic faults), HTTP errors (§5.11.2.4).
//   - Core §5.12.1 and §5.12.3: WS-Security UsernameToken with nonce and creation time;
//     refused credentials are HTTP 400 with env:Sender/ter:NotAuthorized.
//     UsernameToken Profile §3.1: PasswordDigest = Base64(SHA-1(nonce + created + password)).
//   - Core §8.3.6 GetSystemDateAndTime, §8.1.2.4 GetCapabilities, §8.1.2.2 GetServices (all
//     PRE_AUTH); Media GetProfiles; PTZ ContinuousMove, Stop, GotoPreset, SetPreset,
//     GetPresets, GetStatus.
//
// # Address and discovery
//
// A device's address is the camera's HTTP service, host:port (port 80 when left out); the
// device service is at /onvif/device_service. Before its first operation, and again after
// any error but a fault about the arguments, a Camera discovers the camera:
// GetSystemDateAndTime (without credentials) to learn the camera's clock, GetCapabilities
// (GetServices when that is refused or names no PTZ service) for the paths of the media and
// PTZ services, and GetProfiles for the first profile with a PTZ configuration, unless the
// option profile names one. Requests go to the configured host and port with the XAddrs'
// paths: cameras behind NAT or a port forward report addresses the agent cannot reach.
//
// # Credentials and the camera's clock
//
// With a username, every request but GetSystemDateAndTime carries a UsernameToken whose
// Created is the agent's clock plus the offset of the camera's clock that discovery measured:
// cameras refuse tokens outside a window around their own clock, and a camera's clock is
// often off by minutes or years. A refused token makes the next call discover the camera,
// and so measure its clock, again. HTTP digest authentication is not used.
//
// # Why not kerberos-io/onvif's Device
//
// The request types of github.com/kerberos-io/onvif (packages ptz, media, device) are the
// request bodies, and its ptz.GetStatusResponse, ptz.GetPresetsResponse and
// ptz.SetPresetResponse decode the PTZ answers. Its onvif.Device, which sends them, is not
// used, for it cannot do what a driver needs: its calls take no context, so they can be
// neither bounded per call nor cancelled; its UsernameToken is stamped with the local clock,
// with no offset; on any HTTP 4xx or 5xx answer — which is how SOAP faults come — it sends
// the same request again with HTTP digest and without the token, so a fault for a
// ContinuousMove runs the move twice and reports the second answer; NewDevice reduces every
// failure to one string; and its tt:Vector2D drops an x or y of 0 that the schema requires.
// So this package writes the envelope and the token, posts with net/http under the context's
// deadline, and decodes answers and faults itself. The velocity of ContinuousMove is its own
// type for the same omitempty reason.
//
// # Presets
//
// ONVIF presets have tokens the camera picks. Preset number n of the contract is the
// camera's preset named "bailiff-n" if there is one, else its preset with token n ("3");
// see FindPreset. StorePreset(n) overwrites that preset (keeping its name), or creates a
// preset named "bailiff-n" when there is none. Every preset action lists the presets first
// (GetPresets), so presets set up in the camera's own web page count at once.
//
// # Errors
//
// Every error starts with "onvif: " and names what failed. In the chain:
//
//   - no connection, a connection lost before the whole answer: drivers.ErrUnreachable;
//     an operation that may be repeated is tried once more on a new connection;
//   - no answer before the deadline (the context's, or Options.Timeout when the context has
//     none sooner): context.DeadlineExceeded and drivers.ErrUnreachable; not retried;
//   - a SOAP fault: a *Fault, classified by its most specific code: ter:NotAuthorized and
//     WS-Security faults (wsse:FailedAuthentication…) and an HTTP 401 are ErrAuth
//     ("authentication failed", drivers.ErrDevice); ter:InvalidArgVal, ter:NoToken,
//     ter:PresetExist, ter:InvalidPresetName drivers.ErrBadArgs; ter:ActionNotSupported,
//     ter:UnknownAction, ter:NoPTZProfile, ter:SpaceNotSupported, ter:TimeoutNotSupported
//     drivers.ErrUnsupported; ter:MovingPTZ drivers.ErrBusy; anything else (ter:NoProfile,
//     ter:TooManyPresets, env:Receiver…) drivers.ErrDevice;
//   - an answer that is not a SOAP envelope with the expected response ("garbled reply"),
//     an HTTP error without a fault: drivers.ErrDevice;
//   - a preset number the camera does not have, a velocity outside −1…1: drivers.ErrBadArgs,
//     nothing sent.
//
// # State
//
// Poll sends GetStatus and returns "profile" (the media profile driven), "pan" and "tilt"
// (−1…1) and "zoom" (0…1) in the generic spaces when the camera reports its position,
// "moving" when it reports its move status, and "ptz_error" when it reports an error text
// (some cameras always say "NO error"). A camera that does not support GetStatus gives
// "profile" alone.
package onvif
