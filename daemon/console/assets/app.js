/* LocalBridge console: the shared helpers every page uses (DOM building, the two ways of talking
 * to the daemon, formatting) and the hash router. Each page lives in its own file and registers
 * itself with LB.page(name, render). Nothing here uses innerHTML with data: every event, pattern
 * and error is set as text, so nothing a client sent can run in this page. */
"use strict";

const LB = (() => {
  const pages = {};
  let cleanup = []; /* what the current page asked to undo when the route changes */

  /* h("div", {class: "x", onclick: f}, child, "text", [more]) -> an element. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "value") el.value = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /* An error the daemon answered, with its AWS __type and message. */
  class ApiError extends Error {
    constructor(status, type, message) {
      super(message || type || "HTTP " + status);
      this.status = status;
      this.type = type || "";
    }
  }

  async function parse(res) {
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : {};
    } catch (e) {
      throw new ApiError(res.status, "", text.slice(0, 200));
    }
    if (!res.ok) {
      const type = String(body.__type || "").split("#").pop();
      throw new ApiError(res.status, type, body.message || body.Message);
    }
    return body;
  }

  /* The EventBridge API itself: POST / with X-Amz-Target: AWSEvents.<op>. */
  async function aws(op, req) {
    const res = await fetch("/", {
      method: "POST",
      headers: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents." + op},
      body: JSON.stringify(req || {}),
    });
    return parse(res);
  }

  /* LocalBridge's own endpoints under /_localbridge/. */
  async function admin(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    };
    return parse(await fetch("/_localbridge/" + path, init));
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v != null) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  /* Every page of a listing that pages with NextToken, up to max items. */
  async function allPages(op, req, key, max = 1000) {
    const out = [];
    let token;
    do {
      const page = await aws(op, Object.assign({}, req, token ? {NextToken: token} : {}));
      out.push(...(page[key] || []));
      token = page.NextToken;
    } while (token && out.length < max);
    return out;
  }

  /* ---- formatting ---- */

  function toDate(t) {
    if (t === null || t === undefined || t === "") return null;
    if (typeof t === "number") return new Date(t < 1e12 ? t * 1000 : t);
    const d = new Date(t);
    return isNaN(d) ? null : d;
  }

  function ago(t) {
    const d = toDate(t);
    if (!d) return "";
    const s = Math.round((Date.now() - d.getTime()) / 1000);
    if (Math.abs(s) < 5) return "just now";
    if (s < 0) return "in " + duration(-s);
    return duration(s) + " ago";
  }

  function duration(s) {
    if (s < 60) return Math.round(s) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + Math.round(s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }

  function clock(t) {
    const d = toDate(t);
    return d ? d.toLocaleTimeString([], {hour12: false}) : "";
  }

  /* A time shown short, the full ISO time on hover. */
  function time(t) {
    const d = toDate(t);
    if (!d) return h("span", {class: "muted"}, "—");
    return h("time", {datetime: d.toISOString(), title: d.toISOString()}, clock(d) + " · " + ago(d));
  }

  function bytes(n) {
    if (n == null) return "—";
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }

  /* The last part of an ARN: "arn:aws:events:r:a:event-bus/orders" -> "event-bus/orders". */
  function arnTail(arn) {
    return String(arn || "").split(":").slice(5).join(":") || String(arn || "");
  }

  const STATUS_CLASS = {
    SUCCEEDED: "ok", DELIVERED: "ok", ENABLED: "ok", COMPLETED: "ok", ACTIVE: "ok",
    RETRYING: "warn", PENDING: "warn", STARTING: "warn", RUNNING: "info", CANCELLING: "warn",
    CREATING: "warn", UPDATING: "warn",
    FAILED: "bad", DEAD_LETTERED: "bad", CANCELLED: "muted", DISABLED: "muted",
    CREATE_FAILED: "bad", UPDATE_FAILED: "bad",
  };

  function badge(status, text) {
    const s = String(status || "UNKNOWN");
    return h("span", {class: "badge " + (STATUS_CLASS[s] || "muted")}, text || s.replace(/_/g, " "));
  }

  /* JSON with simple highlighting: keys, strings, numbers, literals in their own spans. */
  function jsonView(value, cls) {
    const text = typeof value === "string" ? prettyText(value) : JSON.stringify(value, null, 2);
    const pre = h("pre", {class: "json " + (cls || "")});
    const re = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    for (let m; (m = re.exec(text));) {
      if (m.index > last) pre.append(text.slice(last, m.index));
      if (m[1]) {
        pre.append(h("span", {class: m[2] ? "j-key" : "j-str"}, m[1]));
        if (m[2]) pre.append(m[2]);
      } else if (m[3]) pre.append(h("span", {class: "j-lit"}, m[3]));
      else pre.append(h("span", {class: "j-num"}, m[4]));
      last = re.lastIndex;
    }
    pre.append(text.slice(last));
    return pre;
  }

  function prettyText(s) {
    try {
      return JSON.stringify(JSON.parse(s), null, 2);
    } catch (e) {
      return s;
    }
  }

  /* What a page shows when there is nothing yet: what it is for and what to do. */
  function empty(title, ...what) {
    return h("div", {class: "empty"}, h("p", {class: "empty-title"}, title), h("div", {}, what));
  }

  function errorBox(err) {
    const missing = err instanceof ApiError && err.status === 404 && /endpoint/i.test(err.message);
    return h("div", {class: "error-box", role: "alert"},
      h("strong", {}, err.type || (missing ? "Not available" : "Error")), " ",
      missing ? "This daemon does not serve this yet (" + err.message + ")" : err.message);
  }

  let toastTimer;
  function toast(text, kind) {
    const t = document.getElementById("toast");
    t.textContent = text;
    t.className = "toast " + (kind || "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 4000);
  }

  function cli(text) {
    return h("code", {class: "cli"}, text);
  }

  /* ---- routing ---- */

  function page(name, render) {
    pages[name] = render;
  }

  /* Runs f when the route changes (timers, EventSources). */
  function onLeave(f) {
    cleanup.push(f);
  }

  /* Calls f every ms while the page is shown (and once now). */
  function every(ms, f) {
    f();
    const id = setInterval(f, ms);
    onLeave(() => clearInterval(id));
  }

  function route() {
    for (const f of cleanup.splice(0)) {
      try {
        f();
      } catch (e) {
        console.warn(e);
      }
    }
    const parts = (location.hash.replace(/^#\/?/, "") || "tail").split("/").map(decodeURIComponent);
    const name = pages[parts[0]] ? parts[0] : "tail";
    for (const a of document.querySelectorAll("#nav a"))
      a.classList.toggle("active", a.dataset.page === (name === "events" ? "tail" : name));
    const main = document.getElementById("main");
    main.replaceChildren();
    main.dataset.page = name;
    Promise.resolve(pages[name](main, parts.slice(1))).catch((err) => main.append(errorBox(err)));
  }

  function go(...parts) {
    location.hash = "#/" + parts.map(encodeURIComponent).join("/");
  }

  return {h, append, aws, admin, query, allPages, ApiError, ago, duration, clock, time, bytes,
    arnTail, badge, jsonView, empty, errorBox, toast, cli, page, onLeave, every, route, go,
    toDate};
})();
