// The technician's console (the hub's start page): sites → rooms → devices with live health,
// active alarms with acknowledgement, a command console per device, room configs (create,
// edit, push, revisions, the hub's validation errors by line), agent enrollment, firmware.
// Judges and monitors see the rooms, devices and alarms; the editing is the technician's.
import { api, events, closeEvents, el, loader, APIError } from "/lib/api.js";
import { register, t, onLang } from "/lib/i18n.js";
import { $, startPage, fmtTime } from "/page.js";

register({
  en: {
    "console.title": "Technician's console", "alarms.title": "Active alarms", "alarms.none": "No active alarms.",
    "alarm.ack": "Acknowledge", "alarm.acked": "acknowledged by {by}",
    "alarm.agent-offline": "agent offline", "alarm.device-unreachable": "device unreachable", "alarm.device-error": "device error",
    "alarm.lamp-hours": "lamp hours", "alarm.recording-failed": "recording failed",
    "room.new": "New room", "room.config": "Config", "room.enroll": "Enroll agent", "room.devices": "{n} devices",
    "agent.none": "no agent yet", "agent.line": "agent {version}, config revision {rev}",
    "agent.rejected": "refused revision {rev}: {error}", "agent.local": "its local file",
    "dev.on": "On", "dev.off": "Off", "dev.blank": "Blank", "dev.show": "Show", "dev.console": "Console…",
    "dev.power": "power {v}", "dev.input": "input {v}", "dev.blanked": "blanked", "dev.faults": "faults: {v}",
    "cmd.action": "Action", "cmd.args": "Arguments (JSON)", "cmd.send": "Send", "cmd.title": "Command: {dev}",
    "cmd.badjson": "The arguments are not JSON: {err}", "cmd.ok": "OK",
    "cfg.title": "Config of {room}", "cfg.newtitle": "New room", "cfg.revisions": "Revisions", "cfg.push": "Save and push",
    "cfg.create": "Create room", "cfg.status": "Revision {rev} of {current}; the agent runs {agent}.",
    "cfg.saved": "Stored as revision {rev} and pushed.", "cfg.unchanged": "Unchanged: nothing stored.",
    "cfg.created": "Room {room} created (revision {rev}).", "cfg.line": "line {line}", "cfg.none": "No config stored for this room yet.",
    "cfg.rev": "rev {rev} · {by} · {at}", "cfg.invalid": "Nothing was applied: fix these problems.",
    "enroll.title": "Enroll the agent of {room}", "enroll.help": "Run this once on the room's agent computer. The token works once, until it expires.",
    "enroll.expires": "Expires", "enroll.copy": "Copy", "enroll.copied": "Copied",
    "fw.title": "Firmware", "fw.type": "Device type", "fw.version": "Version", "fw.uploaded": "Uploaded",
    "fw.rollout": "Roll out to site…", "fw.site": "Site to roll out to", "fw.none": "No firmware images uploaded.",
  },
  zh: {
    "console.title": "技术员控制台", "alarms.title": "当前告警", "alarms.none": "没有告警。",
    "alarm.ack": "确认", "alarm.acked": "已由 {by} 确认",
    "alarm.agent-offline": "代理离线", "alarm.device-unreachable": "设备无法连接", "alarm.device-error": "设备故障",
    "alarm.lamp-hours": "灯泡超时", "alarm.recording-failed": "录像失败",
    "room.new": "新建房间", "room.config": "配置", "room.enroll": "注册代理", "room.devices": "{n} 台设备",
    "agent.none": "尚无代理", "agent.line": "代理 {version}，配置版本 {rev}",
    "agent.rejected": "拒绝了版本 {rev}：{error}", "agent.local": "本地文件",
    "dev.on": "开", "dev.off": "关", "dev.blank": "黑屏", "dev.show": "显示", "dev.console": "控制…",
    "dev.power": "电源 {v}", "dev.input": "输入 {v}", "dev.blanked": "已黑屏", "dev.faults": "故障：{v}",
    "cmd.action": "操作", "cmd.args": "参数（JSON）", "cmd.send": "发送", "cmd.title": "命令：{dev}",
    "cmd.badjson": "参数不是有效的 JSON：{err}", "cmd.ok": "成功",
    "cfg.title": "{room} 的配置", "cfg.newtitle": "新建房间", "cfg.revisions": "历史版本", "cfg.push": "保存并下发",
    "cfg.create": "创建房间", "cfg.status": "版本 {rev}（最新 {current}）；代理运行 {agent}。",
    "cfg.saved": "已保存为版本 {rev} 并下发。", "cfg.unchanged": "内容未变：未保存。",
    "cfg.created": "已创建房间 {room}（版本 {rev}）。", "cfg.line": "第 {line} 行", "cfg.none": "此房间尚无保存的配置。",
    "cfg.rev": "版本 {rev} · {by} · {at}", "cfg.invalid": "未应用任何更改：请修正以下问题。",
    "enroll.title": "注册 {room} 的代理", "enroll.help": "在该房间的代理计算机上运行一次。令牌只能使用一次，过期作废。",
    "enroll.expires": "过期时间", "enroll.copy": "复制", "enroll.copied": "已复制",
    "fw.title": "固件", "fw.type": "设备类型", "fw.version": "版本", "fw.uploaded": "上传时间",
    "fw.rollout": "向站点推送…", "fw.site": "推送到的站点", "fw.none": "尚未上传固件。",
  },
});

const rooms = new Map(); // "site/room" → room
const alarms = new Map(); // id → alarm (active ones)
let role = "";

// Example arguments per action, for the command console.
const argsExample = {
  power: { on: true }, blank: { on: true }, mute: { on: true }, input: { source: "hdmi1" }, gain: { db: -20 },
  preset: { recall: 1 }, ptz: { pan: 0, tilt: 0, zoom: 0 }, route: { input: 1, output: 1 }, tally: { color: "red" },
  relay: { on: true }, pulse: { ms: 500 }, print: { lines: ["Bailiff"] }, refresh: {},
};

const newRoomTemplate = `site: demo-court
room: courtroom-new
kind: tech-courtroom
name: New courtroom
devices:
  - id: projector
    driver: pjlink
    address: 127.0.0.1:4352
`;

function summary(d) {
  const st = d.state || {};
  const parts = [];
  if (st.power !== undefined) parts.push(t("dev.power", { v: st.power }));
  if (st.input !== undefined) parts.push(t("dev.input", { v: st.input }));
  if (st.video_mute || st.blank) parts.push(t("dev.blanked"));
  if (st.errors && typeof st.errors === "object") {
    const bad = Object.entries(st.errors).filter(([, v]) => v !== "ok").map(([k, v]) => k + " " + v);
    if (bad.length) parts.push(t("dev.faults", { v: bad.join(", ") }));
  }
  return parts.join(", ");
}

function agentLine(r) {
  const a = r.agent;
  if (!a) return el("span", { class: "muted" }, t("agent.none"));
  const c = a.config || {};
  const rev = c.revision ? String(c.revision) : t("agent.local");
  const out = el("span", { class: "agent", dataset: { revision: c.revision || 0 } }, t("agent.line", { version: a.version || "?", rev }));
  if (c.rejected) out.append(" · ", el("span", { class: "error rejected" }, t("agent.rejected", { rev: c.rejected, error: c.error || "" })));
  return out;
}

function deviceRow(r, d) {
  const acts = el("td", { class: "acts" });
  for (const [a, args, label] of [["power", { on: true }, "dev.on"], ["power", { on: false }, "dev.off"], ["blank", { on: true }, "dev.blank"], ["blank", { on: false }, "dev.show"]]) {
    if ((d.actions || []).includes(a) && role !== "monitor") {
      acts.append(el("button", { type: "button", "data-device": d.id, "data-action": a + (args.on ? "-on" : "-off"), onclick: () => quickCommand(r, d, a, args) }, t(label)));
    }
  }
  if (role === "technician") acts.append(el("button", { type: "button", class: "console", onclick: () => openCommand(r, d) }, t("dev.console")));
  const health = d.reachable
    ? el("span", { class: "badge ok" }, t("online"))
    : el("span", { class: "badge" }, t("unreachable"));
  return el("tr", { "data-device": d.id, class: d.reachable ? "" : "down" },
    el("td", {}, el("strong", {}, d.name || d.id), " ", health, el("br"),
      el("span", { class: "state" }, d.id + " · " + d.driver + (summary(d) ? " · " + summary(d) : "")),
      d.error ? el("div", { class: "error" }, d.error) : null),
    acts);
}

function render() {
  const box = $("#rooms");
  box.replaceChildren();
  const sites = new Map();
  for (const r of [...rooms.values()].sort((a, b) => (a.site + "/" + a.room).localeCompare(b.site + "/" + b.room))) {
    if (!sites.has(r.site)) sites.set(r.site, []);
    sites.get(r.site).push(r);
  }
  for (const [site, list] of sites) {
    const grid = el("div", { class: "grid" });
    for (const r of list) {
      const t1 = el("table", {}, el("tbody", {}, (r.devices || []).map((d) => deviceRow(r, d))));
      const tools = role === "technician" ? el("div", { class: "row" },
        el("button", { type: "button", class: "edit-config", onclick: () => openConfig(r) }, t("room.config")),
        el("button", { type: "button", class: "enroll", onclick: () => openEnroll(r) }, t("room.enroll"))) : null;
      grid.append(el("article", { class: "room card", "data-room": r.site + "/" + r.room },
        el("h3", {}, r.name || r.room, el("span", { class: "badge" + (r.online ? " on" : "") }, r.online ? t("online") : t("offline"))),
        el("div", { class: "muted" }, r.room + " · " + (r.kind || "") + " · " + t("room.devices", { n: (r.devices || []).length })),
        el("div", {}, agentLine(r)), tools, t1));
    }
    box.append(el("section", { class: "site", "data-site": site }, el("h2", {}, site), grid));
  }
}

function renderAlarms() {
  const list = [...alarms.values()].sort((a, b) => b.id - a.id);
  $("#alarm-list").replaceChildren(...list.map((a) => el("tr", { "data-alarm": a.id, class: a.acked ? "acked" : "" },
    el("td", {}, el("span", { class: "badge" + (a.acked ? " warn" : ""), title: a.kind }, t("alarm." + a.kind))),
    el("td", {}, a.site + "/" + a.room + (a.device ? "/" + a.device : "")),
    el("td", {}, a.message),
    el("td", { class: "muted" }, fmtTime(a.raised)),
    el("td", {}, a.acked
      ? el("span", { class: "muted" }, t("alarm.acked", { by: a.acked_by || "" }))
      : !["technician", "monitor"].includes(role) ? null : el("button", { type: "button", class: "ack", onclick: () => ack(a) }, t("alarm.ack"))))));
  $("#no-alarms").hidden = list.length > 0;
  const c = $("#alarm-count");
  c.textContent = String(list.filter((a) => !a.acked).length);
  c.className = "badge" + (list.some((a) => !a.acked) ? "" : " ok");
}

async function ack(a) {
  try {
    const v = await api("POST", `/api/v1/alarms/${a.id}/ack`);
    if (v.active) alarms.set(v.id, v); else alarms.delete(v.id);
    renderAlarms();
  } catch (e) { alert(e.message); }
}

async function quickCommand(r, d, action, args) {
  try {
    const res = await api("POST", `/api/v1/rooms/${r.site}/${r.room}/devices/${d.id}/commands`, { action, args });
    if (res.state) { d.state = res.state; render(); }
  } catch (e) { alert(d.id + ": " + e.message); }
}

// The command console of one device.
let cmdTarget = null;
function openCommand(r, d) {
  cmdTarget = { r, d };
  $("#cmd-title").textContent = t("cmd.title", { dev: (d.name || d.id) + " (" + r.site + "/" + r.room + ")" });
  const sel = $("#cmd-action");
  sel.replaceChildren(...(d.actions || []).map((a) => el("option", { value: a }, a)));
  const fill = () => { $("#cmd-args").value = JSON.stringify(argsExample[sel.value] ?? {}); };
  sel.onchange = fill;
  fill();
  $("#cmd-result").textContent = "";
  $("#cmd-dialog").showModal();
}

async function sendCommand(e) {
  e.preventDefault();
  const { r, d } = cmdTarget;
  const out = $("#cmd-result");
  let args;
  const text = $("#cmd-args").value.trim();
  try { args = text ? JSON.parse(text) : undefined; } catch (x) { out.textContent = t("cmd.badjson", { err: x.message }); out.className = "result error"; return; }
  out.textContent = t("loading"); out.className = "result";
  try {
    const res = await api("POST", `/api/v1/rooms/${r.site}/${r.room}/devices/${d.id}/commands`, { action: $("#cmd-action").value, args });
    out.textContent = t("cmd.ok") + "\n" + JSON.stringify(res, null, 2);
    if (res.state) { d.state = res.state; render(); }
  } catch (x) {
    out.className = "result error";
    out.textContent = (x.code ? x.code + ": " : "") + x.message;
  }
}

// The config editor: one room's YAML (or a new room's), its revisions, the hub's errors.
let cfgTarget = null; // null: a new room
async function openConfig(r) {
  cfgTarget = r;
  $("#cfg-title").textContent = r ? t("cfg.title", { room: r.site + "/" + r.room }) : t("cfg.newtitle");
  $("#cfg-save").textContent = r ? t("cfg.push") : t("cfg.create");
  $("#cfg-errors").replaceChildren();
  $("#cfg-revs").replaceChildren();
  $("#cfg-status").textContent = "";
  $("#cfg-saved").textContent = "";
  $("#cfg-yaml").value = r ? "" : newRoomTemplate;
  $("#cfg-dialog").showModal();
  if (r) await loadConfig(r, 0);
}

async function loadConfig(r, rev) {
  const base = `/api/v1/rooms/${r.site}/${r.room}/config`;
  try {
    const c = await api("GET", base + (rev ? "?revision=" + rev : ""));
    $("#cfg-yaml").value = c.yaml || "";
    showConfigStatus(c);
  } catch (x) {
    $("#cfg-status").textContent = x.status === 404 ? t("cfg.none") : x.message;
    return;
  }
  try {
    const revs = await api("GET", base + "/revisions");
    $("#cfg-revs").replaceChildren(...revs.map((v) => el("li", {}, el("button", { type: "button", "data-revision": v.revision, onclick: () => loadConfig(r, v.revision) },
      t("cfg.rev", { rev: v.revision, by: v.author || v.source, at: fmtTime(v.created) })))));
  } catch { /* the history is a convenience */ }
}

function showConfigStatus(c) {
  const a = c.agent || {};
  $("#cfg-status").textContent = t("cfg.status", { rev: c.revision, current: c.current, agent: a.revision ? a.revision : t("agent.local") }) +
    (a.rejected ? " " + t("agent.rejected", { rev: a.rejected, error: a.error || "" }) : "");
}

async function saveConfig(e) {
  e.preventDefault();
  const errs = $("#cfg-errors");
  errs.replaceChildren();
  $("#cfg-saved").textContent = "";
  const text = $("#cfg-yaml").value;
  try {
    if (cfgTarget) {
      const c = await api("PUT", `/api/v1/rooms/${cfgTarget.site}/${cfgTarget.room}/config`, text, "application/yaml");
      $("#cfg-saved").textContent = c.unchanged ? t("cfg.unchanged") : t("cfg.saved", { rev: c.revision });
      await loadConfig(cfgTarget, 0);
    } else {
      const c = await api("POST", "/api/v1/rooms", text, "application/yaml");
      $("#cfg-saved").textContent = t("cfg.created", { room: c.site + "/" + c.room, rev: c.revision });
      await loadRooms();
      const r = rooms.get(c.site + "/" + c.room);
      if (r) { cfgTarget = r; $("#cfg-title").textContent = t("cfg.title", { room: c.site + "/" + c.room }); $("#cfg-save").textContent = t("cfg.push"); }
    }
  } catch (x) {
    const problems = (x instanceof APIError && x.body && x.body.error && x.body.error.problems) || null;
    if (problems) {
      errs.append(el("li", { class: "summary" }, t("cfg.invalid")));
      for (const p of problems) {
        errs.append(el("li", { class: "problem", dataset: { line: p.line || 0, key: p.key || "" } },
          p.line ? el("button", { type: "button", class: "goto", onclick: () => gotoLine(p.line) }, t("cfg.line", { line: p.line })) : null,
          p.key ? " " + p.key + ": " : " ", p.message));
      }
    } else {
      errs.append(el("li", {}, (x.code ? x.code + ": " : "") + x.message));
    }
  }
}

// gotoLine selects line n (1-based) of the editor.
function gotoLine(n) {
  const ta = $("#cfg-yaml");
  const lines = ta.value.split("\n");
  let start = 0;
  for (let i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
  ta.focus();
  ta.setSelectionRange(start, start + (lines[n - 1] || "").length);
  const lh = ta.scrollHeight / Math.max(lines.length, 1);
  ta.scrollTop = Math.max(0, (n - 3) * lh);
}

async function openEnroll(r) {
  $("#enroll-title").textContent = t("enroll.title", { room: r.site + "/" + r.room });
  $("#enroll-cmd").textContent = t("loading");
  $("#enroll-expires").textContent = "";
  $("#enroll-dialog").showModal();
  try {
    const v = await api("POST", "/api/v1/enrollments", { site: r.site, room: r.room });
    const cmd = `agent enroll --hub ${location.origin} --token ${v.token}`;
    $("#enroll-cmd").textContent = cmd;
    $("#enroll-cmd").dataset.token = v.token;
    $("#enroll-expires").textContent = fmtTime(v.expires);
  } catch (x) { $("#enroll-cmd").textContent = x.message; }
}

async function copyEnroll() {
  const text = $("#enroll-cmd").textContent;
  try { await navigator.clipboard.writeText(text); } catch {
    const range = document.createRange();
    range.selectNodeContents($("#enroll-cmd"));
    getSelection().removeAllRanges(); getSelection().addRange(range);
    document.execCommand("copy");
  }
  $("#enroll-copy").textContent = t("enroll.copied");
  setTimeout(() => { $("#enroll-copy").textContent = t("enroll.copy"); }, 1500);
}

// Firmware: the uploaded images, a rollout to a site, and its progress (firmware-rollout events).
async function openFirmware() {
  $("#fw-rollout").textContent = "";
  $("#fw-dialog").showModal();
  try {
    const list = await api("GET", "/api/v1/firmware");
    $("#fw-list").replaceChildren(...(list || []).map((img) => el("tr", {},
      el("td", {}, img.manifest.device_type), el("td", {}, img.manifest.version), el("td", {}, fmtTime(img.created)),
      el("td", {}, el("button", { type: "button", onclick: () => rollout(img) }, t("fw.rollout"))))));
    if (!list || !list.length) $("#fw-list").append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("fw.none"))));
  } catch (x) { $("#fw-rollout").textContent = x.message; }
}

let rolloutID = "";
async function rollout(img) {
  const sites = [...new Set([...rooms.values()].map((r) => r.site))];
  const site = prompt(t("fw.site"), sites[0] || "");
  if (!site) return;
  try {
    const v = await api("POST", `/api/v1/firmware/${img.id}/rollouts`, { site, all: true });
    rolloutID = v.id;
    showRollout(v);
  } catch (x) { $("#fw-rollout").textContent = x.message; }
}

function showRollout(v) {
  if (!v || v.id !== rolloutID) return;
  $("#fw-rollout").textContent = `${v.device_type} ${v.version}: ${v.state}${v.error ? " (" + v.error + ")" : ""}\n` +
    (v.devices || []).map((d) => `${d.site}/${d.room}/${d.device}: ${d.step} ${d.percent}%${d.reason ? " — " + d.reason : ""}`).join("\n");
}

// The rooms and the active alarms, each loaded whole and kept current by events.
const roomList = loader(() => api("GET", "/api/v1/rooms"), (list) => {
  rooms.clear();
  for (const r of list) rooms.set(r.site + "/" + r.room, r);
  render();
}, applyState);
const alarmList = loader(() => api("GET", "/api/v1/alarms?active=1"), (list) => {
  alarms.clear();
  for (const a of list) alarms.set(a.id, a);
  renderAlarms();
}, applyAlarm);
const loadRooms = roomList.load;

// applyState applies a device's state event; false when the device is not known here.
function applyState(ev) {
  const r = rooms.get(ev.site + "/" + ev.room);
  const d = r && (r.devices || []).find((x) => x.id === ev.device);
  if (!d) return false;
  Object.assign(d, { reachable: ev.reachable, state: ev.state, error: ev.error });
  render();
  return true;
}

function applyAlarm(ev) {
  if (ev.active) alarms.set(ev.id, ev); else alarms.delete(ev.id);
  renderAlarms();
}

function refresh() {
  roomList.load().catch((e) => console.error(e));
  alarmList.load().catch((e) => console.error(e));
}

function start(s) {
  role = s.role;
  for (const x of document.querySelectorAll(".tech-only")) x.hidden = role !== "technician";
  refresh();
  events({
    state: (ev) => { if (!roomList.event(ev)) refresh(); },
    agent: () => {
      loadRooms().catch(() => {});
      if ($("#cfg-dialog").open && cfgTarget) {
        api("GET", `/api/v1/rooms/${cfgTarget.site}/${cfgTarget.room}/config`).then(showConfigStatus).catch(() => {});
      }
    },
    alarm: alarmList.event,
    "firmware-rollout": showRollout,
  }, refresh);
}

function stop() {
  closeEvents();
  rooms.clear(); alarms.clear();
  render(); renderAlarms();
}

$("#cmd-form").addEventListener("submit", sendCommand);
$("#cfg-form").addEventListener("submit", saveConfig);
$("#new-room").addEventListener("click", () => openConfig(null));
$("#firmware").addEventListener("click", openFirmware);
$("#enroll-copy").addEventListener("click", copyEnroll);
onLang(() => { render(); renderAlarms(); });
startPage($("#console"), start, stop);
