// whip.js: publish and view streams of a Bailiff hub from a page, over WHIP and WHEP
// (RFC 9725). A module with no dependencies, for every panel that shows or sends media.
//
//   import { publish, view } from "/whip.js";
//   const cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
//   const p = await publish("/whip/court/r1/visitor-0123456789abcdef", token, cam);
//   const v = await view("/whep/court/r1/program", token);
//   video.srcObject = v.stream;
//   await p.close();   // DELETE the session
//
// Options: { relayOnly: true } uses only the hub's TURN relay; { iceServers: […] } adds servers.
// The hub's ICE servers (with a fresh TURN credential) are fetched first with OPTIONS.

// parseLinks reads the ICE servers of Link headers: <url>; rel="ice-server"; username=…; credential=….
export function parseLinks(header) {
  const out = [];
  if (!header) return out;
  const re = /<([^>]*)>((?:\s*;\s*[a-zA-Z-]+(?:=(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g;
  for (const m of header.matchAll(re)) {
    const params = {};
    for (const p of m[2].matchAll(/;\s*([a-zA-Z-]+)(?:=("(?:[^"\\]|\\.)*"|[^;,]*))?/g)) {
      let v = p[2] || "";
      if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
      const k = p[1].toLowerCase();
      if (!(k in params)) params[k] = v.trim();
    }
    if ((params.rel || "").toLowerCase() !== "ice-server") continue;
    if (!/^(stun|stuns|turn|turns):/.test(m[1])) continue;
    const s = { urls: m[1] };
    if (params.username && params.credential) {
      s.username = params.username;
      s.credential = params.credential;
    }
    out.push(s);
  }
  return out;
}

function authHeaders(token, extra) {
  const h = Object.assign({}, extra || {});
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

// iceServers asks the endpoint for its ICE servers (OPTIONS, RFC 9725 §4.6).
export async function iceServers(url, token) {
  try {
    const r = await fetch(url, { method: "OPTIONS", headers: authHeaders(token) });
    return parseLinks(r.headers.get("Link"));
  } catch (e) {
    return [];
  }
}

function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

// session offers, POSTs the offer with every candidate in it, and applies the answer.
async function session(url, token, pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, 5000);
  const r = await fetch(url, {
    method: "POST",
    headers: authHeaders(token, { "Content-Type": "application/sdp" }),
    body: pc.localDescription.sdp,
  });
  const body = await r.text();
  if (r.status !== 201) {
    pc.close();
    let msg = body;
    try { msg = JSON.parse(body).error.message; } catch (e) { /* not JSON */ }
    const err = new Error(`${url}: ${r.status} ${msg}`);
    err.status = r.status;
    throw err;
  }
  await pc.setRemoteDescription({ type: "answer", sdp: body });
  const location = new URL(r.headers.get("Location"), new URL(url, location0())).toString();
  return {
    pc,
    location,
    async close() {
      pc.close();
      try { await fetch(location, { method: "DELETE", headers: authHeaders(token) }); } catch (e) { /* gone */ }
    },
  };
}

function location0() {
  return typeof window !== "undefined" ? window.location.href : "http://localhost/";
}

async function peer(url, token, opts) {
  opts = opts || {};
  const servers = (opts.iceServers || []).concat(await iceServers(url, token));
  return new RTCPeerConnection({
    iceServers: servers,
    iceTransportPolicy: opts.relayOnly ? "relay" : "all",
    bundlePolicy: "max-bundle",
  });
}

// publish sends every track of a MediaStream to a WHIP endpoint.
export async function publish(url, token, stream, opts) {
  const pc = await peer(url, token, opts);
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  return session(url, token, pc);
}

// view receives a stream from a WHEP endpoint; the result's stream fills as tracks arrive.
export async function view(url, token, opts) {
  const pc = await peer(url, token, opts);
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (e) => stream.addTrack(e.track));
  const s = await session(url, token, pc);
  s.stream = stream;
  return s;
}

// framesDecoded sums the decoded video frames of a peer connection (getStats).
export async function framesDecoded(pc) {
  let n = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded || 0;
  });
  return n;
}
