// join.js: the remote party's page, opened from an invite link (/join#TOKEN). The token is
// the visitor's whole credential: GET /api/v1/invite tells the page its room and stream
// name; the page checks the camera and microphone, publishes them over WHIP under that name
// and shows and plays the room's streams over WHEP.
import { register, t, apply, lang, setLang, onLang } from "/lib/i18n.js";
import { el } from "/lib/api.js";
import { publish, view } from "/whip.js";
import { meterPercent } from "/panel.js";

register({
  en: {
    "join.title": "Join the hearing", "join.check": "Camera and microphone check", "join.you": "You",
    "join.mic": "Microphone", "join.join": "Join", "join.leave": "Leave", "join.court": "The court",
    "join.no-feeds": "The court's video will appear here.", "join.no-token": "This page opens from an invite link. Ask the court for one.",
    "join.expired": "This invite has expired. Ask the court for a new one.", "join.revoked": "This invite was withdrawn by the court.",
    "join.invalid": "This invite link is not valid. Check that it was copied whole.",
    "join.no-camera": "No camera or microphone could be opened: {err}", "join.joined": "You are connected to the court.",
    "join.joining": "Connecting…", "join.left": "You have left. You may join again while the invite is valid.",
    "join.failed": "Could not connect: {err}", "join.welcome": "{name}, {room}",
  },
  zh: {
    "join.title": "参加庭审", "join.check": "摄像头和麦克风检测", "join.you": "您",
    "join.mic": "麦克风", "join.join": "加入", "join.leave": "离开", "join.court": "法庭",
    "join.no-feeds": "法庭画面将显示在这里。", "join.no-token": "请通过邀请链接打开本页面。请向法院索取链接。",
    "join.expired": "此邀请已过期。请向法院索取新的邀请。", "join.revoked": "此邀请已被法院撤销。",
    "join.invalid": "此邀请链接无效。请检查链接是否完整。",
    "join.no-camera": "无法打开摄像头或麦克风：{err}", "join.joined": "您已连接到法庭。",
    "join.joining": "正在连接…", "join.left": "您已离开。邀请有效期内可再次加入。",
    "join.failed": "无法连接：{err}", "join.welcome": "{name}，{room}",
  },
});

const $ = (s) => document.querySelector(s);
const token = decodeURIComponent(location.hash.slice(1));
let me = null, cam = null, pub = null;
const views = new Map(); // stream name → { v, box }
let poller = null;

$("#lang").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
onLang(() => { $("#lang").textContent = t("lang.switch"); if (me) $("#who").textContent = t("join.welcome", { name: me.name, room: me.room }); });
apply(document);
$("#lang").textContent = t("lang.switch");
document.title = t("join.title");

// stop shows why the page cannot go on, and ends every session.
function stop(key, vars) {
  const m = $("#message");
  m.textContent = t(key, vars);
  m.dataset.reason = key;
  m.hidden = false;
  $("#room").hidden = true;
  clearInterval(poller);
  leave(false);
  if (cam) { for (const tr of cam.getTracks()) tr.stop(); cam = null; }
}

// self asks the hub for the invite: its room, stream name and the room's live streams.
async function self() {
  const r = await fetch("/api/v1/invite", { headers: { Authorization: "Bearer " + token } });
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  if (r.status === 401) {
    const msg = (body && body.error && body.error.message) || "";
    const e = new Error(msg);
    e.reason = /expired/.test(msg) ? "join.expired" : /revoked/.test(msg) ? "join.revoked" : "join.invalid";
    throw e;
  }
  if (!r.ok) throw new Error((body && body.error && body.error.message) || r.statusText);
  return body;
}

async function start() {
  if (!token) { stop("join.no-token"); return; }
  try { me = await self(); } catch (e) { if (e.reason) stop(e.reason); else stop("join.failed", { err: e.message }); return; }
  $("#who").textContent = t("join.welcome", { name: me.name, room: me.room });
  $("#room").hidden = false;
  try {
    cam = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    $("#self").srcObject = cam;
    level(cam);
    $("#join").disabled = false;
  } catch (e) {
    $("#check-msg").textContent = t("join.no-camera", { err: e.message });
  }
  $("#join").addEventListener("click", join);
  $("#leave").addEventListener("click", () => leave(true));
  poller = setInterval(refresh, 4000);
  refresh();
}

// level shows the microphone's level (the check before joining, and while joined).
function level(stream) {
  const ctx = new AudioContext();
  const an = ctx.createAnalyser();
  an.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(an);
  const buf = new Float32Array(an.fftSize);
  setInterval(() => {
    an.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const x of buf) sum += x * x;
    const db = 10 * Math.log10(sum / buf.length || 1e-20);
    $("#mic-level").style.width = meterPercent(db) + "%";
    $("#mic-db").textContent = db < -99 ? "-∞" : db.toFixed(0);
    $("#mic-level").dataset.db = db.toFixed(1);
  }, 200);
}

async function join() {
  $("#join").disabled = true;
  $("#state").textContent = t("join.joining");
  try {
    pub = await publish(`/whip/${me.site}/${me.room}/${me.stream}`, token, cam);
    pub.pc.addEventListener("connectionstatechange", () => { if (pub && pub.pc.connectionState === "failed") refresh(); });
    $("#state").textContent = t("join.joined");
    $("#state").dataset.joined = "yes";
    $("#join").hidden = true;
    $("#leave").hidden = false;
    refresh();
  } catch (e) {
    $("#state").textContent = t("join.failed", { err: e.message });
    $("#join").disabled = false;
  }
}

function leave(say) {
  if (pub) { pub.close(); pub = null; }
  for (const [, x] of views) { x.v && x.v.close(); x.box.remove(); }
  views.clear();
  if (say) {
    $("#state").textContent = t("join.left");
    delete $("#state").dataset.joined;
    $("#join").hidden = false; $("#join").disabled = false;
    $("#leave").hidden = true;
  }
}

// refresh follows the invite (revoked or expired ends the page) and, while joined, views the
// room's streams: every one but the visitor's own. Sound comes from the room's microphones
// (audio-only streams) and other visitors, else from the first camera.
async function refresh() {
  try { me = await self(); } catch (e) { if (e.reason) stop(e.reason); return; }
  if (!pub) return;
  const streams = me.streams.filter((s) => s.name !== me.stream && !s.name.startsWith(me.stream + "-"));
  const names = new Set(streams.map((s) => s.name));
  for (const [n, x] of views) if (!names.has(n)) { x.v && x.v.close(); x.box.remove(); views.delete(n); }
  const audioOnly = streams.filter((s) => !s.tracks.some((tr) => tr.kind === "video"));
  for (const s of streams) {
    if (views.has(s.name)) continue;
    const hasVideo = s.tracks.some((tr) => tr.kind === "video");
    const sound = !hasVideo || s.name.startsWith("visitor-") || (audioOnly.length === 0 && s === streams[0]);
    const media = el(hasVideo ? "video" : "audio", { autoplay: true, playsinline: true, dataset: { stream: s.name } });
    media.muted = !sound;
    const box = hasVideo ? el("div", { class: "feed" }, media, el("span", { class: "caption" }, s.name)) : el("div", { hidden: true }, media);
    $("#feeds").append(box);
    const x = { box, v: null };
    views.set(s.name, x);
    view(s.whep, token).then((v) => { x.v = v; media.srcObject = v.stream; }).catch(() => { box.remove(); views.delete(s.name); });
  }
  $("#no-feeds").hidden = views.size > 0;
}

// Another link pasted into the same tab (only the fragment changes): start over with it.
window.addEventListener("hashchange", () => location.reload());
start();
