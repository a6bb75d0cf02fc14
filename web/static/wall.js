// wall.js: the command centre's wall: every room's live video feeds (WHEP) in a grid, the
// active alarms, and the hearing's state in each room. Tap a feed to enlarge it; its sound
// button plays that feed's sound (one feed at a time).
import { register, t, onLang } from "/lib/i18n.js";
import { api, events, el, loader } from "/lib/api.js";
import { gate, Feed, localTime } from "/panel.js";

register({
  en: {
    "wall.title": "Command centre", "wall.alarms": "Alarms", "wall.rooms": "Rooms",
    "wall.no-alarms": "No active alarm.", "wall.no-feeds": "No live feed.", "wall.sound": "Sound",
    "wall.no-hearing": "no hearing", "wall.offline": "agent offline",
  },
  zh: {
    "wall.title": "指挥中心", "wall.alarms": "告警", "wall.rooms": "房间",
    "wall.no-alarms": "无告警。", "wall.no-feeds": "暂无直播画面。", "wall.sound": "声音",
    "wall.no-hearing": "无庭审", "wall.offline": "代理离线",
  },
});

const $ = (s) => document.querySelector(s);
const feeds = new Map(); // whep path → { feed, box, video, button }
let rooms = [], alarms = [], hearings = new Map(); // "site/room" → state
let soundOn = null;

// Every alarm or agent event reloads the list it touches; of crossing reloads the latest wins.
const alarmList = loader(() => api("GET", "/api/v1/alarms?active=1"), (v) => { alarms = v; renderAlarms(); });
const loadAlarms = () => alarmList.load().catch(() => {});
const roomList = loader(() => Promise.all([api("GET", "/api/v1/rooms"),
  api("GET", "/api/v1/hearings?state=in-session"), api("GET", "/api/v1/hearings?state=paused")]), ([list, open, paused]) => {
  rooms = list;
  hearings = new Map();
  for (const h of [...paused, ...open]) hearings.set(h.site + "/" + h.room, h.state);
  renderRooms();
}, (h) => { hearings.set(h.site + "/" + h.room, h.state); renderRooms(); });
const loadRooms = () => roomList.load().catch(() => {});

gate("wall.title", () => {
  onLang(() => { renderAlarms(); renderRooms(); for (const f of feeds.values()) f.button.textContent = t("wall.sound"); });
  events({
    alarm: () => loadAlarms(),
    agent: () => loadRooms(),
    hearing: roomList.event,
  }, () => loadAll());
  loadAll();
  setInterval(loadStreams, 5000);
});

async function loadAll() {
  await Promise.all([loadStreams(), loadAlarms(), loadRooms()]).catch(() => {});
}

async function loadStreams() {
  let list;
  try { list = await api("GET", "/api/v1/streams"); } catch { return; }
  const want = new Map(list.filter((s) => s.tracks.some((tr) => tr.kind === "video")).map((s) => [s.whep, s]));
  for (const [p, f] of feeds) if (!want.has(p)) { f.feed.close(); f.box.remove(); feeds.delete(p); if (soundOn === p) soundOn = null; }
  for (const [p, s] of want) {
    if (feeds.has(p)) continue;
    const video = el("video", { autoplay: true, playsinline: true, dataset: { stream: s.site + "/" + s.room + "/" + s.name } });
    video.muted = true;
    const status = el("span", { class: "status" });
    const button = el("button", { class: "small sound-btn", "aria-pressed": "false" }, t("wall.sound"));
    const box = el("div", { class: "feed", dataset: { whep: p } }, video, status,
      el("span", { class: "caption" }, s.room + " · " + s.name, " ", button));
    video.addEventListener("click", () => box.classList.toggle("big"));
    button.addEventListener("click", (e) => { e.stopPropagation(); sound(p); });
    $("#feeds").append(box);
    const feed = new Feed(p, video, status);
    feeds.set(p, { feed, box, video, button });
    feed.open();
  }
  $("#no-feeds").hidden = feeds.size > 0;
}

// sound plays one feed's sound and mutes the others; again on the same feed mutes it.
function sound(p) {
  soundOn = soundOn === p ? null : p;
  for (const [q, f] of feeds) {
    const on = q === soundOn;
    f.video.muted = !on;
    f.button.setAttribute("aria-pressed", on ? "true" : "false");
    f.box.classList.toggle("sound", on);
  }
}

function renderAlarms() {
  const active = (alarms || []).filter((a) => a.active);
  $("#alarms").replaceChildren(...(active.length ? active.map((a) => el("li", { dataset: { alarm: a.id } },
    el("span", { class: "badge" + (a.acked ? " warn" : "") }, a.kind), " ",
    `${a.room || ""} ${a.device || ""} `, el("span", { class: "muted" }, a.message || ""), " ",
    el("time", { datetime: a.raised }, localTime(a.raised)))) : [el("li", { class: "muted" }, t("wall.no-alarms"))]));
}

function renderRooms() {
  $("#rooms").replaceChildren(...rooms.map((r) => {
    const st = hearings.get(r.site + "/" + r.room);
    const badge = st && st !== "ended" ? el("span", { class: "badge " + (st === "in-session" ? "on" : "warn") }, t("state." + st))
      : el("span", { class: "muted" }, t("wall.no-hearing"));
    return el("li", { dataset: { room: r.site + "/" + r.room, hearing: st || "" } }, el("strong", {}, r.name || r.room), " ", badge,
      r.online === false ? el("span", { class: "badge" }, t("wall.offline")) : "");
  }));
}
