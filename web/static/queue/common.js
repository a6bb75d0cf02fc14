// Shared by the litigation hall queue pages: login, API calls, the event stream, the room from
// the URL (?site=&room=, else the first queue), and the page's language (?lang=zh|en, else the
// browser's).
import { api, session, login as hubLogin, logout, events, el, whenLoggedOut } from "/lib/api.js";

export const Q = (() => {
  const params = new URLSearchParams(location.search);
  const lang = (params.get("lang") || navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const TEXT = {
    en: {
      login: "Log in", user: "User", password: "Password", logout: "Log out", noQueue: "No queue is configured.",
      waiting: "waiting", nowServing: "Now serving", lastCalls: "Last calls", window: "Window",
      takeTicket: "Take a ticket", yourNumber: "Your number", ahead: (n) => `${n} waiting before you`,
      printing: "Your ticket is printing.", callNext: "Call next", recall: "Recall", noShow: "No-show",
      transfer: "Transfer to", complete: "Complete", current: "Current ticket", none: "—",
      recallNoShow: "Recall no-show", startSound: "Tap to start sound", from: "From", to: "To", show: "Show",
      tickets: "Tickets", meanWait: "Mean wait (min)", maxWait: "Max wait (min)", service: "Service",
      serviceTime: "Mean service (min)", noShows: "No-shows", byService: "By service", byWindow: "By window", byDay: "By day",
      served: "Served", priority: "Priority",
      announce: (num, win) => `Number ${num.split("").join(" ")}, please go to ${win}.`,
    },
    zh: {
      login: "登录", user: "用户名", password: "密码", logout: "退出", noQueue: "未配置排队。",
      waiting: "人等候", nowServing: "正在办理", lastCalls: "最近叫号", window: "窗口",
      takeTicket: "请取号", yourNumber: "您的号码", ahead: (n) => `前面还有 ${n} 人`,
      printing: "正在打印号票。", callNext: "叫下一位", recall: "重呼", noShow: "过号",
      transfer: "转至", complete: "办结", current: "当前号码", none: "—",
      recallNoShow: "过号重呼", startSound: "点击开启声音", from: "从", to: "至", show: "查询",
      tickets: "取号数", meanWait: "平均等候(分)", maxWait: "最长等候(分)", service: "业务",
      serviceTime: "平均办理(分)", noShows: "过号", byService: "按业务", byWindow: "按窗口", byDay: "按日期",
      served: "已办结", priority: "优先",
      announce: (num, win) => `请 ${num.split("").join(" ")} 号到 ${win} 办理。`,
    },
  };
  const t = TEXT[lang];
  whenLoggedOut(() => location.reload());

  // login shows a login form in box until the user logs in, then resolves.
  function login(box) {
    if (session()) return Promise.resolve();
    return new Promise((resolve) => {
      const err = el("p", { class: "error", role: "alert" });
      const form = el("form", { id: "login", class: "login" },
        el("h2", {}, t.login),
        el("label", {}, t.user, " ", el("input", { name: "user", autocomplete: "username", required: "" })),
        el("label", {}, t.password, " ", el("input", { name: "password", type: "password", autocomplete: "current-password", required: "" })),
        el("button", { type: "submit" }, t.login), err);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        try {
          await hubLogin(f.get("user"), f.get("password"));
          form.remove();
          resolve();
        } catch (x) { err.textContent = x.message; }
      });
      box.replaceChildren(form);
    });
  }

  // room returns {site, room} from the URL, or the first queue.
  async function room() {
    if (params.get("site") && params.get("room")) return { site: params.get("site"), room: params.get("room") };
    const list = await api("GET", "/api/v1/queues");
    if (!list.length) throw new Error(t.noQueue);
    return list[0];
  }

  function base(r) { return `/api/v1/queues/${encodeURIComponent(r.site)}/${encodeURIComponent(r.room)}`; }

  // listen calls onQueue with the data of every queue event of room r, and onOpen when the
  // stream (re)opens, so the page can reload what it missed.
  function listen(r, onQueue, onOpen) {
    events({ queue: (ev) => { if (ev.site === r.site && ev.room === r.room) onQueue(ev); } }, () => onOpen && onOpen());
  }

  // serviceName is the name of a service or window in the page's language.
  function serviceName(s) { return (s.names && s.names[lang]) || s.name; }

  return { params, lang, t, api, el, login, logout, room, base, listen, serviceName };
})();
