// Queue statistics: tickets, waits, service times and no-shows per service, window and day,
// as tables and simple bar charts drawn in inline SVG.
import { Q } from "/queue/common.js";

(async () => {
  const { t, el, api, lang } = Q;
  const main = document.getElementById("main");
  document.getElementById("title").textContent = lang === "zh" ? "排队统计" : "Queue statistics";
  await Q.login(main);
  let r;
  try { r = await Q.room(); } catch (e) { main.replaceChildren(el("p", { class: "error" }, e.message)); return; }
  const day = (d) => d.toISOString().slice(0, 10);
  const from = el("input", { type: "date", id: "from", value: day(new Date(Date.now() - 6 * 864e5)) });
  const to = el("input", { type: "date", id: "to", value: day(new Date()) });
  const err = el("p", { class: "error", role: "alert" });
  const grid = el("div", { class: "stats-grid", id: "stats" });
  const form = el("form", { class: "stats-form" }, el("label", {}, t.from, " ", from), el("label", {}, t.to, " ", to),
    el("button", { type: "submit" }, t.show));
  form.onsubmit = (e) => { e.preventDefault(); load(); };
  main.replaceChildren(form, err, grid);

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // bars draws one or two series as horizontal bars, one row per item; each series has its
  // own scale (counts and minutes do not share one), and a legend names them.
  function bars(rows, series) {
    const w = 480, row = 26, left = 110, top = 22, h = top + rows.length * row + 6;
    const c = svg("svg", { class: "chart", viewBox: `0 0 ${w} ${h}`, role: "img" });
    series.forEach((s, j) => {
      c.append(svg("rect", { class: j ? "bar2" : "bar", x: left + j * 170, y: 4, width: 12, height: 12 }));
      c.append(svg("text", { x: left + j * 170 + 16, y: 15 }, s.label));
    });
    const max = series.map((s) => Math.max(1e-9, ...rows.map((x) => x[s.key])));
    rows.forEach((x, i) => {
      const y = top + i * row;
      c.append(svg("text", { x: 4, y: y + 16 }, x.name || x.key));
      series.forEach((s, j) => {
        const bw = ((w - left - 60) * x[s.key]) / max[j];
        const bh = (row - 6) / series.length;
        c.append(svg("rect", { class: j ? "bar2" : "bar", x: left, y: y + j * bh, width: Math.max(0, bw), height: bh - 1, "data-value": x[s.key] }));
        c.append(svg("text", { x: left + bw + 4, y: y + j * bh + bh - 2 }, s.fmt(x[s.key])));
      });
    });
    return c;
  }
  const min = (s) => (s / 60).toFixed(1);
  function card(title, rows, id) {
    const table = el("table", {}, el("tr", {}, ...["", t.tickets, t.served, t.noShows, t.meanWait, t.maxWait, t.serviceTime].map((h) => el("th", {}, h))),
      ...rows.map((x) => el("tr", {}, el("td", {}, x.name || x.key), el("td", {}, String(x.tickets)), el("td", {}, String(x.served)),
        el("td", {}, String(x.no_shows)), el("td", {}, min(x.mean_wait_s)), el("td", {}, min(x.max_wait_s)), el("td", {}, min(x.mean_service_s)))));
    return el("section", { class: "card", id },
      el("h2", {}, title),
      bars(rows, [{ key: "tickets", label: t.tickets, fmt: String }, { key: "mean_wait_s", label: t.meanWait, fmt: min }]),
      table);
  }

  async function load() {
    err.textContent = "";
    try {
      const q = new URLSearchParams({ from: from.value, to: to.value });
      const s = await api("GET", `${Q.base(r)}/stats?${q}`);
      grid.replaceChildren(card(t.byService, s.services, "by-service"), card(t.byWindow, s.windows, "by-window"), card(t.byDay, s.days, "by-day"));
    } catch (e) { err.textContent = e.message; }
  }
  await load();
})();
