// judge.js: the judge's panel for one room (?site=…&room=…): the hearing's start, pause,
// resume and end, bench-conference privacy, the program stream (voice following on or off, a
// camera picked by hand), camera presets, display sources, the recording
// with its elapsed time, log notes, the remote parties and their invites, and live meters.
import { register, t, apply, onLang } from "/lib/i18n.js";
import { api, events, el, loader } from "/lib/api.js";
import { gate, siteRoom, clock, localTime, meterPercent } from "/panel.js";

register({
  en: {
    "judge.title": "Judge's panel", "judge.hearing": "Hearing", "judge.case": "Case number",
    "judge.create": "New hearing", "judge.judge": "Judge (user name)", "judge.start": "Start hearing", "judge.pause": "Pause",
    "judge.resume": "Resume", "judge.end": "End hearing", "judge.privacy": "Bench conference",
    "judge.recording": "Recording", "judge.notes": "Log notes", "judge.note-placeholder": "Write a note…",
    "judge.add-note": "Add note", "judge.parties": "Remote parties", "judge.invite-name": "Name of the remote party",
    "judge.invite": "Invite", "judge.invite-link": "Invite link", "judge.copy": "Copy link", "judge.copied": "Copied",
    "judge.cameras": "Camera presets", "judge.displays": "Display sources", "judge.mics": "Microphones",
    "judge.none": "No hearing today: enter a case number.", "judge.no-parties": "No remote party invited.",
    "judge.connected": "connected", "judge.not-connected": "not connected", "judge.no-meters": "No levels yet.",
    "judge.preset": "Preset {n}", "judge.output": "Output {n}", "judge.input": "Input {n}",
    "invite.valid": "valid", "invite.expired": "expired", "invite.revoked": "revoked", "judge.revoke": "Revoke",
    "judge.program": "Program", "judge.program-hint": "What remote parties and the recording see.",
    "judge.follow": "Voice following", "judge.program-cams": "Program camera",
  },
  zh: {
    "judge.title": "法官控制台", "judge.hearing": "庭审", "judge.case": "案号",
    "judge.create": "新建庭审", "judge.judge": "审判员（用户名）", "judge.start": "开庭", "judge.pause": "休庭",
    "judge.resume": "续庭", "judge.end": "闭庭", "judge.privacy": "合议（静音）",
    "judge.recording": "录制中", "judge.notes": "庭审笔记", "judge.note-placeholder": "输入笔记…",
    "judge.add-note": "添加笔记", "judge.parties": "远程参与人", "judge.invite-name": "远程参与人姓名",
    "judge.invite": "邀请", "judge.invite-link": "邀请链接", "judge.copy": "复制链接", "judge.copied": "已复制",
    "judge.cameras": "摄像机预置位", "judge.displays": "显示信号源", "judge.mics": "话筒",
    "judge.none": "今天没有庭审：请输入案号。", "judge.no-parties": "尚未邀请远程参与人。",
    "judge.connected": "已连接", "judge.not-connected": "未连接", "judge.no-meters": "暂无电平。",
    "judge.preset": "预置位 {n}", "judge.output": "输出 {n}", "judge.input": "输入 {n}",
    "invite.valid": "有效", "invite.expired": "已过期", "invite.revoked": "已撤销", "judge.revoke": "撤销",
    "judge.program": "主画面", "judge.program-hint": "远程参与人和录像看到的画面。",
    "judge.follow": "语音跟踪", "judge.program-cams": "主画面摄像机",
  },
});

const $ = (s) => document.querySelector(s);
const today = () => new Date().toISOString().slice(0, 10);
let where, room = null;
let hearings = [], current = null, privacy = false;
let recording = null; // { id, started }
const levels = new Map();
let invites = [], live = new Set();
let program = null; // the room's program (GET …/program), null when it has none

// The room's hearings: today's, and any in session or paused. Of crossing loads the latest wins.
const hearingList = loader(async () => {
  const q = `site=${encodeURIComponent(where.site)}&room=${encodeURIComponent(where.room)}`;
  const [day, open] = await Promise.all([
    api("GET", `/api/v1/hearings?${q}&date=${today()}`),
    api("GET", `/api/v1/hearings?${q}&state=in-session`),
  ]);
  const paused = await api("GET", `/api/v1/hearings?${q}&state=paused`);
  return [...open, ...paused, ...day];
}, (list) => {
  const seen = new Map();
  for (const h of list) if (!seen.has(h.id)) seen.set(h.id, h);
  hearings = [...seen.values()];
  const keep = current && seen.get(current.id);
  current = keep || hearings.find((h) => h.state === "in-session" || h.state === "paused") ||
    hearings.find((h) => h.state === "scheduled") || hearings[0] || null;
  renderHearing();
  loadNotes();
});
const loadHearings = hearingList.load;

gate("judge.title", (s) => {
  where = siteRoom();
  if (!where) return;
  // A judge's hearings are their own; a clerk names the judge.
  const judgeInput = $("#new-hearing").elements.judge;
  judgeInput.hidden = s.role === "judge";
  judgeInput.required = s.role !== "judge";
  $("#new-hearing").addEventListener("submit", createHearing);
  $("#hearing-pick").addEventListener("change", () => { current = hearings.find((h) => h.id === $("#hearing-pick").value) || null; renderHearing(); loadNotes(); });
  for (const a of ["start", "pause", "resume", "end"]) $("#" + a).addEventListener("click", () => transition(a));
  $("#privacy").addEventListener("click", () => scene(privacy ? "privacy-off" : "privacy-on"));
  $("#note").addEventListener("submit", addNote);
  $("#invite").addEventListener("submit", invite);
  $("#copy").addEventListener("click", copyLink);
  $("#follow").addEventListener("click", () => { if (program) setProgram({ follow: !program.follow }); });
  onLang(() => { renderHearing(); renderRoom(); renderNotes(); renderParties(); renderMeters(); });
  events({
    hearing: (h) => { if (h.site === where.site && h.room === where.room) loadHearings(); },
    privacy: (p) => { if (p.site === where.site && p.room === where.room) { privacy = p.on; renderHearing(); } },
    program: (p) => { if (p.site === where.site && p.room === where.room) { if (program) { program.follow = p.follow; program.camera = p.camera; renderProgram(); } else loadProgram(); } },
    recording: (r) => { if (r.site === where.site && r.room === where.room) loadRecording(); },
    state: (d) => { if (d.site === where.site && d.room === where.room && room) { const x = room.devices.find((v) => v.id === d.device); if (x) { Object.assign(x, d); renderRoom(); } } },
    meter: (m) => { if (m.site === where.site && m.room === where.room) { for (const [k, v] of Object.entries(m.levels || {})) levels.set(k, v); renderMeters(); } },
  }, () => { loadAll(); });
  loadAll();
  setInterval(tick, 1000);
  setInterval(loadParties, 3000);
});

function fail(e) { $("#hearing-msg").textContent = e ? e.message || String(e) : ""; }

async function loadAll() {
  await Promise.all([loadHearings(), loadRoom(), loadRecording(), loadParties(), loadProgram()]).catch(fail);
}

function renderHearing() {
  const pick = $("#hearing-pick");
  pick.replaceChildren(...hearings.map((h) => el("option", { value: h.id, selected: current && h.id === current.id },
    `${h.case}${h.title ? " · " + h.title : ""} (${t("state." + h.state)})`)));
  pick.hidden = hearings.length === 0;
  const st = current ? current.state : "";
  const badge = $("#hearing-state");
  badge.textContent = current ? t("state." + st) : t("judge.none");
  badge.className = "badge " + (st === "in-session" ? "on" : st === "paused" ? "warn" : "");
  badge.dataset.state = st;
  $("#start").disabled = !current || st !== "scheduled";
  $("#pause").disabled = st !== "in-session";
  $("#resume").disabled = st !== "paused";
  $("#end").disabled = st !== "in-session" && st !== "paused";
  $("#privacy").setAttribute("aria-pressed", privacy ? "true" : "false");
  $("#privacy").disabled = false;
  $("#note").querySelector("button").disabled = st !== "in-session" && st !== "paused";
}

async function createHearing(e) {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const body = { case: f.get("case").trim(), site: where.site, room: where.room };
    if (f.get("judge")) body.judge = f.get("judge").trim();
    const h = await api("POST", "/api/v1/hearings", body);
    e.target.reset();
    current = h;
    fail(null);
    await loadHearings();
  } catch (x) { fail(x); }
}

async function transition(action) {
  if (!current) return;
  for (const a of ["start", "pause", "resume", "end"]) $("#" + a).disabled = true;
  try {
    const res = await api("POST", `/api/v1/hearings/${current.id}/${action}`);
    current = res.hearing;
    fail(res.warnings && res.warnings.length ? { message: res.warnings.join("; ") } : null);
  } catch (x) { fail(x); }
  await loadHearings().catch(fail);
  loadRecording().catch(fail);
}

async function scene(name) {
  try {
    const res = await api("POST", `/api/v1/rooms/${where.site}/${where.room}/scenes/${name}`);
    if (name === "privacy-on" || name === "privacy-off") privacy = name === "privacy-on";
    fail(res.ok === false ? { message: (res.steps || []).filter((x) => !x.ok).map((x) => x.error).join("; ") } : null);
    renderHearing();
  } catch (x) { fail(x); }
}

// The recording indicator: the room's running recording and how long it has run.
async function loadRecording() {
  const list = await api("GET", "/api/v1/recordings");
  const r = (Array.isArray(list) ? list : []).find((x) => x.site === where.site && x.room === where.room && x.state === "recording");
  recording = r ? { id: r.id, started: Date.parse(r.started) } : null;
  tick();
}

function tick() {
  $("#rec").hidden = !recording;
  if (recording) $("#rec-time").textContent = clock(Date.now() - recording.started);
}

// The program stream: voice following on or off, and one button per camera, the one asked
// for pressed. Pressing a camera turns following off (the API does).
async function loadProgram() {
  try { program = await api("GET", `/api/v1/rooms/${where.site}/${where.room}/program`); } catch (x) {
    program = null;
    if (x.status !== 404) fail(x); // 404: the room has no program
  }
  renderProgram();
}

function renderProgram() {
  $("#program").hidden = !program;
  if (!program) return;
  $("#follow").setAttribute("aria-pressed", program.follow ? "true" : "false");
  $("#program-cams").replaceChildren(...(program.cameras || []).map((c) => {
    const b = el("button", { class: "big", "aria-pressed": c === program.camera ? "true" : "false", dataset: { camera: c } }, c);
    b.addEventListener("click", () => setProgram({ camera: c }));
    return b;
  }));
}

let sets = 0; // the latest setProgram; an older answer is dropped
async function setProgram(body) {
  const n = ++sets;
  for (const b of $("#program").querySelectorAll("button")) b.disabled = true;
  try {
    const v = await api("PUT", `/api/v1/rooms/${where.site}/${where.room}/program`, body);
    if (n === sets) program = v;
    fail(null);
  } catch (x) { fail(x); }
  for (const b of $("#program").querySelectorAll("button")) b.disabled = false;
  renderProgram();
}

// Notes.
let notes = [];
async function loadNotes() {
  if (!current) { notes = []; renderNotes(); return; }
  try { notes = (await api("GET", `/api/v1/hearings/${current.id}/notes`)).notes || []; } catch (x) { notes = []; }
  renderNotes();
}

function renderNotes() {
  $("#notes").replaceChildren(...[...notes].reverse().map((n) =>
    el("li", {}, el("time", { datetime: n.at }, localTime(n.at)), " ", el("span", { class: "muted" }, n.user), " ", el("span", { class: "text" }, n.text))));
}

async function addNote(e) {
  e.preventDefault();
  if (!current) return;
  const input = e.target.elements.text;
  try {
    await api("POST", `/api/v1/hearings/${current.id}/notes`, { text: input.value.trim() });
    input.value = "";
    fail(null);
    await loadNotes();
  } catch (x) { fail(x); }
}

// The room's devices: camera presets and display sources.
async function loadRoom() {
  room = await api("GET", `/api/v1/rooms/${where.site}/${where.room}`);
  if (typeof room.privacy === "boolean") { privacy = room.privacy; renderHearing(); }
  renderRoom();
}

function command(dev, action, args, button) {
  if (button) button.disabled = true;
  return api("POST", `/api/v1/rooms/${where.site}/${where.room}/devices/${dev}/commands`, { action, args })
    .then(() => fail(null), fail).finally(() => { if (button) button.disabled = false; });
}

function renderRoom() {
  if (!room) return;
  // Cameras: the devices with presets that also pan and tilt (a DSP's presets are not shots).
  const cams = room.devices.filter((d) => (d.actions || []).includes("preset") && (d.actions || []).includes("ptz"));
  $("#cameras").replaceChildren(...cams.map((d) => el("div", { class: "row" },
    el("span", { class: "label" }, d.name || d.id),
    ...[1, 2, 3, 4].map((n) => {
      const b = el("button", { dataset: { device: d.id, preset: n } }, t("judge.preset", { n }));
      b.addEventListener("click", () => command(d.id, "preset", { recall: n }, b));
      return b;
    }))));
  const mats = room.devices.filter((d) => (d.actions || []).includes("route"));
  $("#displays").replaceChildren(...mats.flatMap((d) => {
    const st = d.state || {};
    const outs = Number(st.outputs) || 4, ins = Number(st.inputs) || 8;
    const video = st.video || {};
    return Array.from({ length: outs }, (_, i) => {
      const out = String(i + 1);
      const sel = el("select", { "aria-label": t("judge.output", { n: out }), dataset: { device: d.id, output: out } },
        ...Array.from({ length: ins }, (_, j) => el("option", { value: String(j + 1), selected: String(video[out]) === String(j + 1) }, t("judge.input", { n: j + 1 }))));
      sel.addEventListener("change", () => command(d.id, "route", { input: sel.value, output: out, kind: "av" }, sel));
      return el("label", { class: "row" }, el("span", { class: "label" }, (mats.length > 1 ? (d.name || d.id) + " · " : "") + t("judge.output", { n: out })), sel);
    });
  }));
}

// Remote parties: the room's invites and which of their streams are live.
async function loadParties() {
  const q = `site=${encodeURIComponent(where.site)}&room=${encodeURIComponent(where.room)}`;
  try {
    const [inv, streams] = await Promise.all([api("GET", `/api/v1/invites?${q}`), api("GET", "/api/v1/streams")]);
    invites = inv || [];
    live = new Set((streams || []).filter((s) => s.site === where.site && s.room === where.room).map((s) => s.name));
  } catch (x) { return; }
  renderParties();
}

function renderParties() {
  const shown = invites.filter((i) => i.state === "valid" || live.has(i.stream));
  const list = $("#parties");
  if (!shown.length) { list.replaceChildren(el("li", { class: "muted" }, t("judge.no-parties"))); return; }
  list.replaceChildren(...shown.map((i) => {
    const on = live.has(i.stream);
    const revoke = el("button", { class: "small" }, t("judge.revoke"));
    revoke.addEventListener("click", async () => { try { await api("DELETE", `/api/v1/invites/${i.id}`); loadParties(); } catch (x) { fail(x); } });
    return el("li", { dataset: { stream: i.stream, connected: on ? "yes" : "no" } },
      el("span", { class: "badge " + (on ? "on" : "") }, t(on ? "judge.connected" : "judge.not-connected")), " ",
      el("strong", {}, i.name), " ", el("span", { class: "muted" }, t("invite." + i.state)), " ", revoke);
  }));
}

async function invite(e) {
  e.preventDefault();
  const name = e.target.elements.name.value.trim();
  try {
    const res = await api("POST", "/api/v1/invites", { site: where.site, room: where.room, hearing: current ? current.id : "none", name });
    $("#invite-url").value = new URL(res.link, location.origin).toString();
    $("#invite-link").hidden = false;
    e.target.reset();
    fail(null);
    loadParties();
  } catch (x) { fail(x); }
}

async function copyLink() {
  const input = $("#invite-url");
  try { await navigator.clipboard.writeText(input.value); } catch { input.select(); document.execCommand("copy"); }
  $("#copy").textContent = t("judge.copied");
  setTimeout(() => { $("#copy").textContent = t("judge.copy"); }, 2000);
}

function renderMeters() {
  const box = $("#meters");
  if (!levels.size) { box.replaceChildren(el("p", { class: "muted" }, t("judge.no-meters"))); return; }
  box.replaceChildren(...[...levels.keys()].sort().map((k) => {
    const db = levels.get(k);
    const bar = el("span", { class: "fill" + (db > -6 ? " hot" : "") });
    bar.style.width = meterPercent(db) + "%";
    return el("div", { class: "meter", dataset: { mic: k } }, el("span", { class: "label" }, k),
      el("span", { class: "track" }, bar), el("span", { class: "db" }, db <= -200 ? "-∞" : db.toFixed(0)));
  }));
}
apply(document);
