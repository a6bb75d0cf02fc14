// api.js: the hub's HTTP API from a page: the session token, JSON calls with the hub's errors,
// the event stream, and a login form.
//
//   import { api, session, login, logout, events, el } from "/lib/api.js";
//   const rooms = await api("GET", "/api/v1/rooms");
//   events({ state: (ev) => …, alarm: (ev) => … });   // server-sent events, reconnecting
//
// The token lives in sessionStorage (one tab, gone with it). A 401 ends the session and calls
// the page's onLogout.

const KEY = "bailiff-token";
let onLogout = () => {};

// APIError is the hub's {"error":{"code","message"}} with the HTTP status.
export class APIError extends Error {
  constructor(status, code, message, body) {
    super(message || code || "HTTP " + status);
    this.status = status; this.code = code; this.body = body;
  }
}

// session is the current session: { token, user, role } or null.
export function session() {
  const s = sessionStorage.getItem(KEY);
  try { return s ? JSON.parse(s) : null; } catch { return null; }
}

// whenLoggedOut sets what happens when the session ends (a 401, or logout).
export function whenLoggedOut(f) { onLogout = f; }

// api calls the hub: method, path, and a JSON body (or a string sent as it is, with type).
export async function api(method, path, body, type) {
  const s = session();
  const headers = {};
  if (s) headers.Authorization = "Bearer " + s.token;
  let payload;
  if (typeof body === "string") { payload = body; headers["Content-Type"] = type || "text/plain"; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, { method, headers, body: payload });
  let data = null;
  const text = await r.text();
  if (text) { try { data = JSON.parse(text); } catch { data = text; } }
  if (r.status === 401 && path !== "/api/v1/login" && s) { end(); }
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new APIError(r.status, e.code, e.message || r.statusText, data);
  }
  return data;
}

// login opens a session; it returns { token, role, expires }.
export async function login(user, password) {
  const res = await api("POST", "/api/v1/login", { user, password });
  sessionStorage.setItem(KEY, JSON.stringify({ token: res.token, user, role: res.role }));
  return res;
}

function end() {
  sessionStorage.removeItem(KEY);
  closeEvents();
  onLogout();
}

// logout ends the session on the hub and here.
export async function logout() {
  const s = session();
  if (s) { try { await api("POST", "/api/v1/logout"); } catch { /* ended anyway */ } }
  end();
}

// loader keeps a page's copy of a list in step with the hub when events and reloads cross:
// load() fetches with get() and hands the answer to set(), unless a later load() started
// meanwhile (its answer is the newer one); events given to event() are applied at once and,
// when a load is under way, applied again over its answer, so an answer the hub computed
// before an event never undoes it. event() returns what apply returned.
//
//   const list = loader(() => api("GET", "/api/v1/alarms?active=1"), setAll, applyOne);
//   events({ alarm: list.event }, list.load);
export function loader(get, set, apply) {
  let latest = 0;
  const during = new Map(); // load number → events seen since it started
  return {
    async load() {
      const n = ++latest;
      const seen = [];
      during.set(n, seen);
      try {
        const v = await get();
        if (n !== latest) return;
        set(v);
        if (apply) for (const ev of seen) apply(ev);
      } finally { during.delete(n); }
    },
    event(ev) {
      for (const seen of during.values()) seen.push(ev);
      return apply ? apply(ev) : undefined;
    },
  };
}

let source = null;
// events listens to the hub's event stream: handlers by event type ("state", "agent", "alarm",
// "meter", "hearing", "scene", "privacy", "recording", …), each given the event's data. onopen
// (optional) runs at every (re)connection, when a page should reload what it shows.
export function events(handlers, onopen) {
  closeEvents();
  const s = session();
  if (!s) return;
  source = new EventSource("/api/v1/events?access_token=" + encodeURIComponent(s.token));
  for (const [type, f] of Object.entries(handlers)) {
    source.addEventListener(type, (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      f(ev.data !== undefined ? ev.data : ev, ev);
    });
  }
  if (onopen) source.onopen = onopen;
}

export function closeEvents() { if (source) { source.close(); source = null; } }

// el makes an element: el("button", { class: "big", onclick: f }, "text", child…).
export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== undefined && k !== null && k !== false) e.append(k);
  return e;
}

// loginForm fills form (with inputs named user and password, and an element .error) and calls
// done(session) after a successful login.
export function loginForm(form, done) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const err = form.querySelector(".error");
    try {
      await login(f.get("user"), f.get("password"));
      if (err) err.textContent = "";
      done(session());
    } catch (x) { if (err) err.textContent = x.message; }
  });
}
