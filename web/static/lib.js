// Shared by the hub's pages: API calls with a bearer token, and building elements.
"use strict";
const Bailiff = (() => {
  // api calls the hub's API and returns the decoded answer; an error answer throws with its
  // message, and a 401 (other than to a login) calls onUnauthorized first.
  async function api(token, method, path, body, onUnauthorized) {
    const r = await fetch(path, {
      method,
      headers: Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: "Bearer " + token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = r.status === 204 ? {} : await r.json();
    if (r.status === 401 && path !== "/api/v1/login" && onUnauthorized) { onUnauthorized(); }
    if (!r.ok) { throw new Error((data.error && data.error.message) || r.statusText); }
    return data;
  }

  // el makes an element with attributes (onclick: a handler) and children (null is skipped).
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.onclick = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  return { api, el };
})();
