// i18n.js: the panels' two languages, Chinese and English. A page registers its own strings,
// then marks its elements: <span data-i18n="hearing.start"></span> gets the text, and
// data-i18n-title / data-i18n-placeholder / data-i18n-aria-label set those attributes.
//
//   import { register, t, apply, lang, setLang } from "/lib/i18n.js";
//   register({ en: { "hearing.start": "Start hearing" }, zh: { "hearing.start": "开庭" } });
//   apply(document);            // fills every data-i18n element
//   t("alarm.count", { n: 3 })  // "{n} alarms" → "3 alarms"
//
// The language is ?lang=zh|en, else the one chosen before (localStorage), else the browser's.

const dict = { en: {}, zh: {} };
const listeners = new Set();

function pick() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q === "zh" || q === "en") return q;
  const saved = localStorage.getItem("bailiff-lang");
  if (saved === "zh" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let current = pick();

// lang is the language in use: "zh" or "en".
export function lang() { return current; }

// setLang switches the language, remembers it, and fills the page again.
export function setLang(l) {
  if (l !== "zh" && l !== "en") return;
  current = l;
  localStorage.setItem("bailiff-lang", l);
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
  apply(document);
  for (const f of listeners) f(l);
}

// onLang calls f after every language switch (pages re-render what they built in code).
export function onLang(f) { listeners.add(f); }

// register adds a page's strings: { en: {key: text}, zh: {key: text} }.
export function register(strings) {
  for (const l of ["en", "zh"]) Object.assign(dict[l], strings[l] || {});
}

// t is the text of key in the current language (English, then the key itself, when missing),
// with {name} placeholders filled from vars.
export function t(key, vars) {
  let s = dict[current][key] ?? dict.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// apply fills the data-i18n* elements under root.
export function apply(root) {
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const a of ["title", "placeholder", "aria-label"]) {
    const k = "i18n" + a.replace(/(^|-)(\w)/g, (m, d, c) => c.toUpperCase());
    for (const e of root.querySelectorAll(`[data-i18n-${a}]`)) e.setAttribute(a, t(e.dataset[k]));
  }
}

// Strings every page shares.
register({
  en: {
    "app.name": "Bailiff", "lang.switch": "中文", "login.title": "Log in", "login.user": "User",
    "login.password": "Password", "login.submit": "Log in", "logout": "Log out",
    "online": "online", "offline": "offline", "unreachable": "unreachable", "error": "Error",
    "loading": "Loading…", "save": "Save", "cancel": "Cancel", "close": "Close",
  },
  zh: {
    "app.name": "法警", "lang.switch": "English", "login.title": "登录", "login.user": "用户名",
    "login.password": "密码", "login.submit": "登录", "logout": "退出",
    "online": "在线", "offline": "离线", "unreachable": "无法连接", "error": "错误",
    "loading": "加载中…", "save": "保存", "cancel": "取消", "close": "关闭",
  },
});

document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
