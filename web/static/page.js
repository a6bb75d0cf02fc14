// page.js: what the technician's pages (console, recordings, audit) share: the header's
// language switch, user and logout, the login form, and the navigation by role.
import { session, whenLoggedOut, loginForm, logout } from "/lib/api.js";
import { apply, setLang, lang, register } from "/lib/i18n.js";

register({
  en: {
    "nav.console": "Console", "nav.recordings": "Recordings", "nav.audit": "Audit",
    "time.never": "—",
  },
  zh: {
    "nav.console": "控制台", "nav.recordings": "录像", "nav.audit": "审计",
    "time.never": "—",
  },
});

export const $ = (s, root) => (root || document).querySelector(s);

// fmtTime shows an RFC 3339 time in the page's language, local time.
export function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d)) return s;
  return d.toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

// startPage wires the header and the login form; start(session) runs once logged in (and
// again after a new login), stop() when the session ends.
export function startPage(content, start, stop) {
  apply(document);
  $("#lang").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  const show = () => {
    const s = session();
    $("#login").hidden = !!s;
    $("#logout").hidden = !s;
    $("#nav").hidden = !s;
    for (const a of document.querySelectorAll("#nav .tech-only")) a.hidden = !s || s.role !== "technician";
    $("#who").textContent = s ? s.user + " (" + s.role + ")" : "";
    content.hidden = !s;
    if (s) start(s); else if (stop) stop();
  };
  whenLoggedOut(show);
  loginForm($("#login"), show);
  $("#logout").addEventListener("click", () => logout());
  for (const d of document.querySelectorAll("dialog")) {
    for (const b of d.querySelectorAll("button.close")) b.addEventListener("click", () => d.close());
  }
  show();
}
