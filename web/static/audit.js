// The audit page (technicians): the audit log with filters and paging (GET /api/v1/audit,
// newest first, `before` for the next page), and the check of its hash chain
// (GET /api/v1/audit/verify).
import { api, el } from "/lib/api.js";
import { register, t, onLang } from "/lib/i18n.js";
import { $, startPage, fmtTime } from "/page.js";

register({
  en: {
    "audit.title": "Audit log", "audit.verify": "Verify the chain", "audit.user": "User", "audit.action": "Action",
    "audit.target": "Target", "audit.from": "From", "audit.to": "To", "audit.limit": "Per page", "audit.at": "Time",
    "audit.result": "Result", "audit.detail": "Detail", "audit.newest": "Newest", "audit.newer": "Newer", "audit.older": "Older",
    "audit.ok": "The chain holds: {n} entries checked, head {head}.",
    "audit.bad": "The chain is BROKEN at entry {seq}: {problem}", "audit.page": "page {p}", "audit.none": "No entries match.",
    "audit.techonly": "The audit log is for technicians.", "rec.search": "Search",
  },
  zh: {
    "audit.title": "审计日志", "audit.verify": "校验哈希链", "audit.user": "用户", "audit.action": "操作",
    "audit.target": "对象", "audit.from": "起始", "audit.to": "截止", "audit.limit": "每页", "audit.at": "时间",
    "audit.result": "结果", "audit.detail": "详情", "audit.newest": "最新", "audit.newer": "较新", "audit.older": "较早",
    "audit.ok": "哈希链完整：已校验 {n} 条，末条哈希 {head}。",
    "audit.bad": "哈希链在第 {seq} 条处被破坏：{problem}", "audit.page": "第 {p} 页", "audit.none": "没有符合条件的记录。",
    "audit.techonly": "审计日志仅供技术员查看。", "rec.search": "查询",
  },
});

let pages = [0]; // the `before` of each page shown so far (0: the newest)
let next = 0;
let entries = [];
let verdict = null;

function query(before) {
  const f = new FormData($("#filters"));
  const q = new URLSearchParams();
  for (const k of ["user", "action", "target"]) { const v = String(f.get(k) || "").trim(); if (v) q.set(k, v); }
  for (const k of ["from", "to"]) { const v = f.get(k); if (v) q.set(k, new Date(v).toISOString()); }
  q.set("limit", f.get("limit") || "50");
  if (before) q.set("before", String(before));
  return "/api/v1/audit?" + q;
}

async function show(before) {
  $("#audit-error").textContent = "";
  try {
    const page = await api("GET", query(before));
    entries = page.entries || [];
    next = page.next || 0;
    render();
  } catch (x) { $("#audit-error").textContent = x.status === 403 ? t("audit.techonly") : x.message; }
}

function render() {
  $("#audit-list").replaceChildren(...entries.map((e) => el("tr", { "data-seq": e.seq },
    el("td", {}, String(e.seq)), el("td", {}, fmtTime(e.at)), el("td", {}, e.user + (e.role ? " (" + e.role + ")" : "")),
    el("td", {}, e.action), el("td", { class: "mono" }, e.target),
    el("td", {}, el("span", { class: "badge" + (e.result === "ok" ? " ok" : " warn") }, e.result)),
    el("td", { class: "mono" }, e.detail || ""))));
  if (!entries.length) $("#audit-list").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("audit.none"))));
  $("#older").disabled = !next;
  $("#newer").disabled = pages.length < 2;
  $("#newest").disabled = pages.length < 2;
  $("#page-info").textContent = t("audit.page", { p: pages.length });
  renderVerdict();
}

function renderVerdict() {
  const r = $("#verify-result");
  if (!verdict) { r.textContent = ""; return; }
  if (verdict.error) { r.textContent = verdict.error; r.className = "error"; return; }
  r.textContent = verdict.ok ? t("audit.ok", { n: verdict.entries, head: (verdict.head || "").slice(0, 16) + "…" })
    : t("audit.bad", { seq: verdict.bad_seq, problem: verdict.problem || "" });
  r.className = verdict.ok ? "verified ok" : "verified error";
}

async function verify() {
  $("#verify").disabled = true;
  try { verdict = await api("GET", "/api/v1/audit/verify"); } catch (x) { verdict = { error: x.message }; }
  $("#verify").disabled = false;
  renderVerdict();
}

$("#filters").addEventListener("submit", (e) => { e.preventDefault(); pages = [0]; show(0); });
$("#older").addEventListener("click", () => { if (next) { pages.push(next); show(next); } });
$("#newer").addEventListener("click", () => { if (pages.length > 1) { pages.pop(); show(pages[pages.length - 1]); } });
$("#newest").addEventListener("click", () => { pages = [0]; show(0); });
$("#verify").addEventListener("click", verify);
onLang(render);
startPage($("#page"), () => { pages = [0]; verdict = null; show(0); });
