// Bailiff status panel: rooms and devices, live over server-sent events, with power and
// blanking buttons for devices that support them.
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("bailiff-token");
let events = null;
const rooms = new Map();

function api(method, path, body) { return Bailiff.api(token, method, path, body, logout); }
const el = Bailiff.el;

function render() {
  const box = $("#rooms");
  box.replaceChildren();
  for (const r of [...rooms.values()].sort((a, b) => (a.site + a.room).localeCompare(b.site + b.room))) {
    const t = el("table");
    for (const d of r.devices) {
      const acts = el("td");
      for (const [a, args, label] of [["power", { on: true }, "On"], ["power", { on: false }, "Off"], ["blank", { on: true }, "Blank"], ["blank", { on: false }, "Show"]]) {
        if ((d.actions || []).includes(a)) {
          acts.append(el("button", { "data-device": d.id, onclick: () => command(r, d, a, args) }, label));
        }
      }
      const st = d.state || {};
      const summary = [st.power && "power " + st.power, st.input && "input " + st.input, st.video_mute && "blanked"].filter(Boolean).join(", ");
      t.append(el("tr", { "data-device": d.id },
        el("td", {}, el("strong", {}, d.name || d.id), el("br"), d.reachable ? summary : el("span", { class: "error" }, d.error || "unreachable")),
        acts));
    }
    box.append(el("article", { class: "room", "data-room": r.site + "/" + r.room },
      el("h2", {}, r.name || r.room, el("span", { class: "badge" + (r.online ? " on" : "") }, r.online ? "online" : "offline")),
      el("div", { class: "kind" }, r.site + " · " + r.kind), t));
  }
}

async function command(r, d, action, args) {
  try {
    const res = await api("POST", `/api/v1/rooms/${r.site}/${r.room}/devices/${d.id}/commands`, { action, args });
    if (res.state) { d.state = res.state; render(); }
  } catch (e) { alert(d.id + ": " + e.message); }
}

async function load() {
  const list = await api("GET", "/api/v1/rooms");
  rooms.clear();
  for (const r of list) rooms.set(r.site + "/" + r.room, r);
  render();
}

function listen() {
  if (events) events.close();
  events = new EventSource("/api/v1/events?access_token=" + encodeURIComponent(token));
  const refresh = () => load().catch(() => {});
  events.addEventListener("state", (m) => {
    const ev = JSON.parse(m.data).data;
    const r = rooms.get(ev.site + "/" + ev.room);
    const d = r && r.devices.find((x) => x.id === ev.device);
    if (!d) return refresh();
    Object.assign(d, { reachable: ev.reachable, state: ev.state, error: ev.error });
    render();
  });
  events.addEventListener("agent", refresh);
  events.onopen = refresh;
}

function logout() {
  if (token) fetch("/api/v1/logout", { method: "POST", headers: { Authorization: "Bearer " + token } });
  token = null;
  sessionStorage.removeItem("bailiff-token");
  if (events) events.close();
  rooms.clear();
  render();
  show();
}

function show() {
  $("#login").hidden = !!token;
  $("#logout").hidden = !token;
  if (token) { load().catch((e) => console.error(e)); listen(); }
}

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const res = await api("POST", "/api/v1/login", { user: f.get("user"), password: f.get("password") });
    token = res.token;
    sessionStorage.setItem("bailiff-token", token);
    $("#who").textContent = f.get("user") + " (" + res.role + ")";
    $("#login-error").textContent = "";
    show();
  } catch (err) { $("#login-error").textContent = err.message; }
});
$("#logout").onclick = logout;
show();
