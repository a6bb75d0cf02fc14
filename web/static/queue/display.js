// The hall's calling display: the number being called in large type, the window to go to, the
// last calls; each call plays a chime (WebAudio) and is spoken (speechSynthesis) in the page's
// language. Browsers only play sound after a touch, so the page asks for one first.
import { Q } from "/queue/common.js";

(async () => {
  const { t, el, api, lang } = Q;
  const main = document.getElementById("main");
  document.getElementById("title").textContent = lang === "zh" ? "叫号显示" : "Now calling";
  await Q.login(main);
  let r;
  try { r = await Q.room(); } catch (e) { main.replaceChildren(el("p", { class: "error" }, e.message)); return; }

  const number = el("div", { class: "number", id: "now-number" }, t.none);
  const where = el("div", { class: "where", id: "now-window" }, "");
  const now = el("section", { class: "now" }, el("div", { class: "label" }, t.nowServing), number, where);
  const list = el("ul", { class: "recent", id: "recent" });
  const spoken = el("p", { class: "sr", id: "announcement", "aria-live": "assertive" });
  main.className = "display-main";
  main.replaceChildren(now, el("section", {}, el("h2", {}, t.lastCalls), list), spoken);

  let audio = null;
  const start = el("div", { class: "sound", id: "sound" }, el("button", { id: "start-sound", onclick: () => {
    try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
    start.remove();
  } }, t.startSound));
  document.body.append(start);

  function chime() {
    if (!audio) return;
    const t0 = audio.currentTime;
    for (const [i, f] of [[0, 880], [1, 660]]) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t0 + i * 0.5);
      g.gain.exponentialRampToValueAtTime(0.4, t0 + i * 0.5 + 0.03);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.5 + 0.45);
      o.connect(g).connect(audio.destination);
      o.start(t0 + i * 0.5);
      o.stop(t0 + i * 0.5 + 0.5);
    }
  }

  function speak(text) {
    spoken.textContent = text;
    if (!("speechSynthesis" in window)) return;
    const u = new SpeechSynthesisUtterance(text);
    u.lang = lang === "zh" ? "zh-CN" : "en-US";
    u.rate = 0.9;
    setTimeout(() => speechSynthesis.speak(u), audio ? 1000 : 0); // after the chime
  }

  let windows = {}; // id → window, for its name in the page's language
  const winName = (tk) => (windows[tk.window] && Q.serviceName(windows[tk.window])) || tk.window_name || tk.window || "";

  function render(recent) {
    list.replaceChildren(...recent.slice(0, 6).map((tk) =>
      el("li", { "data-number": tk.number }, el("span", { class: "n" }, tk.number), el("span", {}, winName(tk)))));
  }

  let recent = [];
  async function load() {
    const l = await api("GET", Q.base(r));
    windows = Object.fromEntries(l.windows.map((w) => [w.id, w]));
    recent = l.recent;
    const cur = recent.find((x) => x.state === "called");
    if (cur) { number.textContent = cur.number; where.textContent = winName(cur); }
    render(recent);
  }

  function call(tk) {
    number.textContent = tk.number;
    where.textContent = winName(tk);
    now.classList.remove("flash");
    void now.offsetWidth; // restart the animation
    now.classList.add("flash");
    recent = [tk, ...recent.filter((x) => x.number !== tk.number)];
    render(recent);
    chime();
    speak(t.announce(tk.number, winName(tk)));
  }

  Q.listen(r, (ev) => {
    if ((ev.action === "called" || ev.action === "recalled") && ev.ticket) call(ev.ticket);
    if (ev.action === "reset") load().catch(() => {});
  }, () => load().catch(() => {}));
  const clock = document.getElementById("clock");
  setInterval(() => { clock.textContent = new Date().toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB"); }, 1000);
})();
