// display.js: the room's own screen (?site=…&room=…), opened by a kiosk browser logged in as
// a monitor-like account. It shows the remote parties (visitor-* streams) and plays their
// sound into the room, and follows the hearing's state by itself; the feeds and the event
// stream reconnect by themselves.
import { register, t, onLang } from "/lib/i18n.js";
import { api, events, el, loader } from "/lib/api.js";
import { gate, siteRoom, Feed } from "/panel.js";

register({
  en: {
    "display.title": "Room display", "display.waiting": "Waiting for the hearing", "display.in-session": "In session",
    "display.paused": "Adjourned", "display.ended": "The hearing has ended", "display.no-feeds": "No remote party connected.",
    "display.unmute": "Tap to turn on the sound", "display.case": "Case {case}",
  },
  zh: {
    "display.title": "庭室显示", "display.waiting": "等待开庭", "display.in-session": "正在开庭",
    "display.paused": "休庭中", "display.ended": "庭审已结束", "display.no-feeds": "暂无远程参与人连接。",
    "display.unmute": "点击开启声音", "display.case": "案号 {case}",
  },
});

const $ = (s) => document.querySelector(s);
let where, hearing = null;
const feeds = new Map();

// loadHearing finds the room's hearing: one in session or paused, else today's latest. Of
// crossing loads the latest wins.
const hearingLoad = loader(() => {
  const q = `site=${encodeURIComponent(where.site)}&room=${encodeURIComponent(where.room)}`;
  return Promise.all([api("GET", `/api/v1/hearings?${q}&state=in-session`),
    api("GET", `/api/v1/hearings?${q}&state=paused`), api("GET", `/api/v1/hearings?${q}&date=${new Date().toISOString().slice(0, 10)}`)]);
}, ([open, paused, day]) => { hearing = open[0] || paused[0] || day[0] || null; render(); });
function loadHearing() { hearingLoad.load().catch(() => {}); }

gate("display.title", () => {
  where = siteRoom();
  if (!where) return;
  onLang(render);
  events({
    hearing: (h) => { if (h.site === where.site && h.room === where.room) loadHearing(); },
  }, () => { loadHearing(); loadStreams(); });
  $("#unmute").addEventListener("click", () => { for (const f of feeds.values()) { f.video.muted = false; f.video.play().catch(() => {}); } $("#unmute").hidden = true; });
  loadHearing();
  loadStreams();
  setInterval(loadStreams, 3000);
  setInterval(loadHearing, 30000);
});

function render() {
  const st = hearing ? hearing.state : "";
  const key = st === "in-session" ? "display.in-session" : st === "paused" ? "display.paused" : st === "ended" ? "display.ended" : "display.waiting";
  $("#state").textContent = t(key);
  $("#state").dataset.state = st || "waiting";
  $("#case").textContent = hearing && hearing.case ? t("display.case", { case: hearing.case }) : "";
}

async function loadStreams() {
  let list;
  try { list = await api("GET", "/api/v1/streams"); } catch { return; }
  const want = new Map(list.filter((s) => s.site === where.site && s.room === where.room && s.name.startsWith("visitor-")).map((s) => [s.whep, s]));
  for (const [p, f] of feeds) if (!want.has(p)) { f.feed.close(); f.box.remove(); feeds.delete(p); }
  for (const [p, s] of want) {
    if (feeds.has(p)) continue;
    const video = el("video", { autoplay: true, playsinline: true, dataset: { stream: s.name } });
    const status = el("span", { class: "status" });
    const box = el("div", { class: "feed" }, video, status);
    $("#feeds").append(box);
    const feed = new Feed(p, video, status);
    feeds.set(p, { feed, box, video });
    feed.open();
    // A kiosk browser lets pages play sound; another asks for a tap first.
    video.addEventListener("loadedmetadata", () => video.play().catch(() => { video.muted = true; video.play(); $("#unmute").hidden = false; }), { once: true });
  }
  $("#no-feeds").hidden = feeds.size > 0;
}
