// The ticket kiosk: a big button per service; a touch issues a ticket (printed on ?printer= when
// given) and shows its number and how many wait before it. Logs in with a kiosk account.
import { Q } from "/queue/common.js";

(async () => {
  const { t, el, api } = Q;
  const main = document.getElementById("main");
  document.getElementById("title").textContent = t.takeTicket;
  await Q.login(main);
  let r;
  try { r = await Q.room(); } catch (e) { main.replaceChildren(el("p", { class: "error" }, e.message)); return; }
  const printer = Q.params.get("printer") || "";
  const result = el("div", { id: "result", "aria-live": "polite" });
  const err = el("p", { class: "error", role: "alert", id: "error" });
  const box = el("div", { class: "services", id: "services" });
  main.replaceChildren(box, err, result);
  let timer = null;

  async function load() {
    const l = await api("GET", Q.base(r));
    box.replaceChildren(...l.services.map((s) => el("button", { "data-service": s.id, onclick: () => issue(s) },
      Q.serviceName(s), el("small", {}, `${s.waiting.length} ${t.waiting}`))));
  }

  async function issue(s) {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    err.textContent = "";
    try {
      const body = { service: s.id };
      if (printer) body.printer = printer;
      const tk = await api("POST", Q.base(r) + "/tickets", body);
      result.replaceChildren(el("div", { class: "ticket" },
        el("p", {}, t.yourNumber), el("div", { class: "number", id: "ticket-number" }, tk.number),
        el("p", {}, Q.serviceName(s)), el("p", { id: "ahead" }, t.ahead(tk.ahead || 0)),
        printer ? el("p", {}, t.printing) : null));
      clearTimeout(timer);
      timer = setTimeout(() => result.replaceChildren(), 10000);
      await load();
    } catch (e) { err.textContent = e.message; }
    for (const b of box.querySelectorAll("button")) b.disabled = false;
  }

  await load();
  setInterval(() => load().catch(() => {}), 15000); // waiting counts; a kiosk has no event stream
})();
