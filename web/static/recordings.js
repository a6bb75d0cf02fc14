// The recordings page: recordings by room, date and case number; one played in the browser
// from its WebM segments (GET /api/v1/recordings/{id}/tracks/{track}/segments/{n}), with the
// hearing's notes as a timeline beside it (a click seeks there) and the verification of both.
import { api, session, el } from "/lib/api.js";
import { register, t, onLang } from "/lib/i18n.js";
import { $, startPage, fmtTime } from "/page.js";

register({
  en: {
    "rec.title": "Recordings", "rec.room": "Room", "rec.all": "All rooms", "rec.date": "Date", "rec.case": "Case number",
    "rec.search": "Search", "rec.started": "Started", "rec.state": "State", "rec.none": "No recordings match.",
    "rec.play": "Play", "rec.track": "Track", "rec.notes": "Notes", "rec.nonotes": "No notes in this recording.",
    "rec.verified": "Verified: every segment matches the signed manifest.", "rec.unverified": "NOT verified: {problems}",
    "rec.running": "Still recording: it can be played once it stops.",
    "rec.notesok": "The notes' chain holds.", "rec.notesbad": "The notes' chain is broken: {problem}",
    "rec.segment": "segment {i} of {n}", "rec.nohearing": "no hearing", "rec.noaccess": "The notes are not visible to you.",
    "state.recording": "recording", "state.stopped": "stopped", "state.failed": "failed", "state.recovered": "recovered",
  },
  zh: {
    "rec.title": "录像", "rec.room": "房间", "rec.all": "全部房间", "rec.date": "日期", "rec.case": "案号",
    "rec.search": "查询", "rec.started": "开始时间", "rec.state": "状态", "rec.none": "没有符合条件的录像。",
    "rec.play": "播放", "rec.track": "轨道", "rec.notes": "庭审笔记", "rec.nonotes": "此录像中没有笔记。",
    "rec.verified": "已校验：所有分段与签名清单一致。", "rec.unverified": "校验未通过：{problems}",
    "rec.running": "仍在录制：停止后才能播放。",
    "rec.notesok": "笔记哈希链完整。", "rec.notesbad": "笔记哈希链被破坏：{problem}",
    "rec.segment": "第 {i} 段，共 {n} 段", "rec.nohearing": "无庭审", "rec.noaccess": "您无权查看笔记。",
    "state.recording": "录制中", "state.stopped": "已停止", "state.failed": "失败", "state.recovered": "已恢复",
  },
});

let recordings = [];
let hearingOf = new Map(); // recording ID → hearing
let current = null; // { rec, hearing, notes, tracks: Map(track → segments) }
let choice = null; // { video: segments, audio: segments or null, i }

async function load() {
  const [recs, hs, rooms] = await Promise.all([api("GET", "/api/v1/recordings"), api("GET", "/api/v1/hearings"), api("GET", "/api/v1/rooms")]);
  recordings = recs || [];
  hearingOf = new Map();
  for (const h of hs || []) for (const id of h.recordings || []) hearingOf.set(id, h);
  const sel = $("#f-room");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "" }, t("rec.all")),
    ...(rooms || []).map((r) => el("option", { value: r.site + "/" + r.room }, (r.name || r.room) + " (" + r.site + "/" + r.room + ")")));
  sel.value = keep;
  renderList();
}

function localDate(s) {
  const d = new Date(s);
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
}

function renderList() {
  const room = $("#f-room").value, date = $("#f-date").value, cs = $("#f-case").value.trim().toLowerCase();
  const list = recordings.filter((r) => {
    const h = hearingOf.get(r.id);
    if (room && r.site + "/" + r.room !== room) return false;
    if (date && localDate(r.started) !== date) return false;
    if (cs && !(h && h.case && h.case.toLowerCase().includes(cs))) return false;
    return true;
  }).sort((a, b) => b.started.localeCompare(a.started));
  $("#rec-list").replaceChildren(...list.map((r) => {
    const h = hearingOf.get(r.id);
    return el("tr", { "data-recording": r.id },
      el("td", {}, fmtTime(r.started)),
      el("td", {}, r.site + "/" + r.room),
      el("td", {}, h ? (h.case || "") + (h.title ? " · " + h.title : "") : el("span", { class: "muted" }, t("rec.nohearing"))),
      el("td", {}, t("state." + r.state)),
      el("td", {}, el("button", { type: "button", class: "play", onclick: () => open(r.id) }, t("rec.play"))));
  }));
  $("#rec-none").hidden = list.length > 0;
}

function segURL(s) {
  const tok = session() ? session().token : "";
  return `/api/v1/recordings/${encodeURIComponent(current.rec.id)}/tracks/${encodeURIComponent(s.Track)}/segments/${s.Index}?access_token=${encodeURIComponent(tok)}`;
}

// offset is where a segment starts, in ms from the recording's start.
const offset = (s) => new Date(s.Start) - new Date(current.rec.started);

async function open(id) {
  const rec = await api("GET", "/api/v1/recordings/" + encodeURIComponent(id));
  const hearing = hearingOf.get(id) || null;
  let notes = null;
  if (hearing) { try { notes = await api("GET", `/api/v1/hearings/${hearing.id}/notes`); } catch { notes = null; } }
  const tracks = new Map();
  for (const s of rec.segments || []) {
    if (!tracks.has(s.Track)) tracks.set(s.Track, []);
    tracks.get(s.Track).push(s);
  }
  for (const l of tracks.values()) l.sort((a, b) => a.Index - b.Index);
  current = { rec, hearing, notes, tracks };
  $("#player").hidden = false;
  renderPlayer();
  const ids = [...tracks.keys()];
  const sel = $("#track");
  sel.replaceChildren(...ids.map((id) => el("option", { value: id }, id + " (" + tracks.get(id)[0].Kind + ")")));
  const firstVideo = ids.find((id) => tracks.get(id)[0].Kind === "video");
  if (firstVideo || ids.length) sel.value = firstVideo || ids[0];
  pickTrack(0, true);
  $("#player").scrollIntoView({ block: "start" });
}

function renderPlayer() {
  if (!current) return;
  const { rec, hearing, notes } = current;
  $("#play-title").textContent = (hearing ? (hearing.case || "") + (hearing.title ? " · " + hearing.title : "") + " — " : "") +
    rec.site + "/" + rec.room + " · " + fmtTime(rec.started);
  const v = $("#play-verify");
  if (rec.state === "recording") { v.textContent = t("rec.running"); v.className = "muted"; }
  else if (rec.verified) { v.textContent = t("rec.verified"); v.className = "verified ok"; }
  else { v.textContent = t("rec.unverified", { problems: (rec.problems || []).join("; ") }); v.className = "verified error"; }
  const nv = $("#notes-verify");
  const tl = $("#timeline");
  if (!notes) {
    nv.textContent = hearing ? t("rec.noaccess") : ""; tl.replaceChildren();
    return;
  }
  nv.textContent = notes.verified ? t("rec.notesok") : t("rec.notesbad", { problem: notes.problem || "" });
  nv.className = notes.verified ? "muted" : "error";
  const mine = (notes.notes || []).filter((n) => n.recording === rec.id);
  tl.replaceChildren(...mine.map((n) => el("li", {}, el("button", { type: "button", class: "note", dataset: { offset: n.offset_ms }, onclick: () => seek(n.offset_ms) },
    el("span", { class: "at" }, clock(n.offset_ms)), n.text, el("br"), el("span", { class: "muted" }, n.user + " · " + fmtTime(n.at))))));
  if (!mine.length) tl.append(el("li", { class: "muted" }, t("rec.nonotes")));
}

function clock(ms) {
  const s = Math.floor(ms / 1000);
  const p = (n) => String(n).padStart(2, "0");
  return (s >= 3600 ? Math.floor(s / 3600) + ":" : "") + p(Math.floor(s / 60) % 60) + ":" + p(s % 60);
}

// pickTrack plays the chosen track (and, for a video track, the audio track beside it) from
// ms into the recording.
function pickTrack(ms, play) {
  const id = $("#track").value;
  const segs = current.tracks.get(id) || [];
  let audio = null;
  if (segs.length && segs[0].Kind === "video") {
    // The audio track of the same stream: the one whose ID shares the longest prefix.
    let best = -1;
    for (const [tid, l] of current.tracks) {
      if (l[0].Kind !== "audio") continue;
      let n = 0;
      while (n < tid.length && n < id.length && tid[n] === id[n]) n++;
      if (n > best) { best = n; audio = l; }
    }
  }
  choice = { video: segs, audio, i: -1 };
  seek(ms, play);
}

function segmentAt(list, ms) {
  let i = 0;
  for (let k = 0; k < list.length; k++) if (offset(list[k]) <= ms) i = k;
  return i;
}

// seek shows the point ms into the recording: the segment holding it, at the right time.
function seek(ms, play = true) {
  if (!choice || !choice.video.length) return;
  const video = $("#video");
  const i = segmentAt(choice.video, ms);
  const s = choice.video[i];
  const at = Math.max(0, (ms - offset(s)) / 1000);
  const go = () => { video.currentTime = at; syncAudio(); if (play) video.play().catch(() => {}); };
  if (choice.i !== i) {
    choice.i = i;
    video.src = segURL(s);
    video.addEventListener("loadedmetadata", go, { once: true });
    $("#seg-info").textContent = t("rec.segment", { i: i + 1, n: choice.video.length });
  } else go();
}

// syncAudio keeps the companion audio track where the video is.
function syncAudio() {
  const audio = $("#audio"), video = $("#video");
  if (!choice || !choice.audio || choice.i < 0) return;
  const ms = offset(choice.video[choice.i]) + video.currentTime * 1000;
  const j = segmentAt(choice.audio, ms);
  const s = choice.audio[j];
  const at = Math.max(0, (ms - offset(s)) / 1000);
  const url = segURL(s);
  const apply = () => {
    if (Math.abs(audio.currentTime - at) > 0.3) audio.currentTime = at;
    if (video.paused) audio.pause(); else audio.play().catch(() => {});
  };
  if (audio.dataset.src !== url) {
    audio.dataset.src = url;
    audio.src = url;
    audio.addEventListener("loadedmetadata", apply, { once: true });
  } else apply();
}

const video = $("#video");
for (const ev of ["play", "pause", "seeked"]) video.addEventListener(ev, syncAudio);
let lastSync = 0;
video.addEventListener("timeupdate", () => { if (Date.now() - lastSync > 2000) { lastSync = Date.now(); syncAudio(); } });
video.addEventListener("ended", () => {
  if (choice && choice.i + 1 < choice.video.length) seek(offset(choice.video[choice.i + 1]));
});
$("#track").addEventListener("change", () => {
  const ms = choice && choice.i >= 0 ? offset(choice.video[choice.i]) + video.currentTime * 1000 : 0;
  pickTrack(ms, !video.paused);
});
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); renderList(); });
onLang(() => { renderList(); renderPlayer(); });

// ?recording=ID opens that recording at once.
startPage($("#page"), () => {
  load().then(() => {
    const want = new URLSearchParams(location.search).get("recording");
    if (want) open(want).catch((e) => console.error(e));
  }).catch((e) => console.error(e));
}, () => { video.removeAttribute("src"); $("#player").hidden = true; });
