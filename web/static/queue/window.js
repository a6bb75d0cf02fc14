// A service window's staff panel (?window=w1): the current ticket, call next, recall, no-show,
// transfer and complete, the window's no-shows to call back, and what waits for its services.
import { Q } from "/queue/common.js";

(async () => {
  const { t, el, api } = Q;
  const main = document.getElementById("main");
  await Q.login(main);
  let r;
  try { r = await Q.room(); } catch (e) { main.replaceChildren(el("p", { class: "error" }, e.message)); return; }
  let win = Q.params.get("window");
  const err = el("p", { class: "error", role: "alert", id: "error" });
  const cur = el("div", { class: "number", id: "current" }, t.none);
  const curInfo = el("p", { id: "current-info" });
  const picker = el("select", { id: "window-select" });
  const target = el("select", { id: "transfer-service" });
  const waiting = el("div", { class: "waiting-list", id: "waiting" });
  const noshows = el("div", { class: "noshows", id: "noshows" });
  const act = (path, body) => async () => {
    err.textContent = "";
    try { await api("POST", `${Q.base(r)}/windows/${encodeURIComponent(win)}/${path}`, body ? body() : undefined); await load(); } catch (e) { err.textContent = e.message; }
  };
  main.replaceChildren(
    el("label", {}, t.window, " ", picker),
    el("section", { class: "win-current" }, el("p", {}, t.current), cur, curInfo),
    el("div", { class: "win-actions" },
      el("button", { class: "primary", id: "call-next", onclick: act("call-next") }, t.callNext),
      el("button", { id: "recall", onclick: act("recall") }, t.recall),
      el("button", { id: "no-show", onclick: act("no-show") }, t.noShow),
      el("button", { id: "complete", onclick: act("complete") }, t.complete),
      el("button", { id: "transfer", onclick: act("transfer", () => ({ service: target.value })) }, t.transfer), target),
    err, el("h3", {}, t.recallNoShow), noshows, el("h3", {}, t.waiting), waiting);
  picker.onchange = () => { win = picker.value; load(); };

  async function load() {
    const l = await api("GET", Q.base(r));
    if (!win) win = l.windows[0].id;
    picker.replaceChildren(...l.windows.map((w) => el("option", w.id === win ? { value: w.id, selected: "" } : { value: w.id }, w.name)));
    document.getElementById("title").textContent = (l.windows.find((w) => w.id === win) || {}).name || win;
    const w = l.windows.find((x) => x.id === win);
    if (!w) { err.textContent = `no window ${win}`; return; }
    cur.textContent = w.current ? w.current.number : t.none;
    curInfo.textContent = w.current ? `${w.current.service_name}${w.current.priority ? " · " + t.priority : ""}` : "";
    target.replaceChildren(...l.services.map((s) => el("option", { value: s.id }, Q.serviceName(s))));
    noshows.replaceChildren(...l.recent.filter((x) => x.state === "no-show" && x.window === win).map((x) =>
      el("button", { "data-number": x.number, onclick: act("recall", () => ({ number: x.number })) }, x.number)));
    waiting.replaceChildren(...l.services.filter((s) => w.services.includes(s.id)).map((s) =>
      el("span", { "data-service": s.id }, `${Q.serviceName(s)}: ${s.waiting.length}`)));
  }
  Q.listen(r, () => load().catch(() => {}), () => load().catch(() => {}));
  await load();
})();
