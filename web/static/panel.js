// panel.js: what the media pages (judge, wall, room display) share: a header with the
// language switch and log out, a login form when there is no session, the query's site and
// room, and small helpers for meters, durations and feeds.
import { register, t, apply, lang, setLang } from "/lib/i18n.js";
import { session, loginForm, logout, whenLoggedOut, el } from "/lib/api.js";
import { view } from "/whip.js";

register({
  en: {
    "panel.site-room": "Add ?site=…&room=… to the address.",
    "feed.connecting": "connecting…", "feed.lost": "lost; reconnecting…",
    "state.scheduled": "scheduled", "state.in-session": "in session", "state.paused": "paused", "state.ended": "ended",
  },
  zh: {
    "panel.site-room": "请在地址中加上 ?site=…&room=…。",
    "feed.connecting": "连接中…", "feed.lost": "已断开，正在重连…",
    "state.scheduled": "待开庭", "state.in-session": "庭审中", "state.paused": "休庭中", "state.ended": "已闭庭",
  },
});

export const params = new URLSearchParams(location.search);

// Anything the page's policy blocks is a bug of the page: say so where it shows.
document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation:", e.violatedDirective, e.blockedURI));

// relayOnly: ?relay=1 makes media use only the hub's TURN relay.
export const mediaOpts = { relayOnly: params.get("relay") === "1" };

// header fills the page's header bar: title key, language switch, user and log out.
export function header(titleKey, extra) {
  const bar = document.querySelector("header.bar");
  const s = session();
  bar.replaceChildren(
    el("h1", { "data-i18n": titleKey }, t(titleKey)),
    ...(extra || []),
    el("button", { id: "lang", "data-i18n": "lang.switch", onclick: () => setLang(lang() === "zh" ? "en" : "zh") }, t("lang.switch")),
    s ? el("span", { class: "who" }, s.user) : "",
    s ? el("button", { id: "logout", onclick: () => logout(), "data-i18n": "logout" }, t("logout")) : "",
  );
  document.title = t(titleKey) + " · " + t("app.name");
  apply(bar); // the language button names the other language
}

// gate runs start(session) once there is a session, showing the login form until then.
export function gate(titleKey, start) {
  const main = document.querySelector("main");
  const form = el("form", { class: "login card", hidden: true },
    el("h2", { "data-i18n": "login.title" }),
    el("label", {}, el("span", { "data-i18n": "login.user" }), " ", el("input", { name: "user", autocomplete: "username", required: true })),
    el("label", {}, el("span", { "data-i18n": "login.password" }), " ",
      el("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    el("button", { type: "submit", class: "primary", "data-i18n": "login.submit" }),
    el("p", { class: "error", role: "alert" }));
  main.before(form);
  const go = (s) => { form.hidden = true; main.hidden = false; header(titleKey); start(s); };
  whenLoggedOut(() => location.reload());
  apply(document);
  if (session()) { go(session()); return; }
  header(titleKey);
  main.hidden = true;
  form.hidden = false;
  loginForm(form, go);
}

// need returns the query's site and room, or shows what is missing and returns null.
export function siteRoom() {
  const site = params.get("site"), room = params.get("room");
  if (!site || !room) {
    document.querySelector("main").replaceChildren(el("p", { class: "error", "data-i18n": "panel.site-room" }, t("panel.site-room")));
    return null;
  }
  return { site, room };
}

// clock formats milliseconds as h:mm:ss.
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(x).padStart(2, "0");
}

// localTime formats an RFC 3339 time as the panel's local hh:mm:ss.
export function localTime(at) {
  const d = new Date(at);
  return isNaN(d) ? "" : d.toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

// meterWidth maps a level in dBFS (-60 … 0) to a bar's percentage.
export function meterPercent(db) {
  return Math.round(Math.max(0, Math.min(1, (db + 60) / 60)) * 100);
}

// Feed is one WHEP feed in a <video>, reconnecting by itself while it is open.
export class Feed {
  constructor(path, video, status, opts) {
    this.path = path; this.video = video; this.status = status; this.opts = opts || {};
    this.v = null; this.closed = false; this.timer = null;
  }
  async open() {
    if (this.closed) return;
    this.say("feed.connecting");
    try {
      const s = session();
      const v = await view(this.path, s && s.token, mediaOpts);
      if (this.closed) { v.close(); return; }
      this.v = v;
      this.video.srcObject = v.stream;
      v.pc.addEventListener("connectionstatechange", () => {
        if (this.v !== v) return; // an old connection, replaced
        const st = v.pc.connectionState;
        if (st === "connected") this.say("");
        if (st === "failed" || st === "closed") this.retry();
      });
    } catch (e) {
      this.say("feed.lost");
      this.retry();
    }
  }
  say(key) { if (this.status) { this.status.dataset.i18n = key; this.status.textContent = key ? t(key) : ""; } }
  retry() {
    if (this.closed || this.timer) return;
    const old = this.v; this.v = null;
    if (old) old.close();
    this.say("feed.lost");
    this.timer = setTimeout(() => { this.timer = null; this.open(); }, 3000);
  }
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.v) this.v.close();
    this.v = null;
  }
}
