// Twinbank dashboard: a single page over the HTTP API (/api/v1). No build step, no CDN: plotly.js is vendored.
// Routes (in the URL fragment): #/ the twin list, #/twins/ID a twin's page. #token=JWT[&next=/twins/ID] (as
// `twinbank serve` prints it) signs in and is kept for this browser tab only (sessionStorage), never sent anywhere but this server.
"use strict";

const state = { token: null, purpose: "treatment", live: null, twinList: null };
const MAX_EVENTS = 50000;          // a twin page reads at most this many events
const RETRY_MS = 5000;             // a broken live stream is opened again after this long
const REDRAW_MS = 500;             // new events are drawn at most this often

// ---------- the API ----------

class APIError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status; this.code = body && body.code; this.field = body && body.field;
  }
}

async function api(path) {
  const headers = { "Accept": "application/json", "X-Purpose-Of-Use": state.purpose };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const response = await fetch(path, { headers });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) throw new APIError(response.status, body);
  return body;
}

/** Every page of a paginated list, up to `max` items. */
async function allPages(path, max) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(path + sep + "limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    items.push(...page.items);
    cursor = page.nextCursor || null;
  } while (cursor && items.length < max);
  return { items, truncated: cursor !== null };
}

/**
 * The twin's live stream (Server-Sent Events, read through fetch so the token travels in a header, never in a URL):
 * calls onMessage(name, data) for each message after thread sequence `after` (`event`, `alert`, `forecast`,
 * `recommendation` carry {event}; `dropped` {count}; `watchError`) until the stream ends or `signal` aborts.
 */
async function streamEvents(id, after, signal, onMessage) {
  const headers = { "Accept": "text/event-stream", "X-Purpose-Of-Use": state.purpose, "Authorization": "Bearer " + state.token };
  const response = await fetch("/api/v1/twins/" + encodeURIComponent(id) + "/events/stream?after=" + after, { headers, signal });
  if (!response.ok || !response.body) {
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    throw new APIError(response.status, body);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      if (data) onMessage(name, JSON.parse(data));
    }
  }
}

// ---------- small DOM helpers ----------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v; else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const app = () => document.getElementById("app");
function status(text) { document.getElementById("status").textContent = text || ""; }
function showError(e) {
  const msg = e instanceof APIError
    ? (e.status === 401 ? "Your token is missing, invalid or expired: sign in again." :
       e.status === 403 ? "Access denied: " + e.message : e.message)
    : "Could not reach the server: " + e.message;
  app().replaceChildren(el("p", { class: "error", role: "alert", text: msg }));
  if (e instanceof APIError && e.status === 401) renderSignIn();
}

// ---------- values ----------

function conceptLabel(c) { return c.display || (c.system.replace(/^https?:\/\//, "") + "|" + c.code); }
function conceptKey(c) { return c.system + "|" + c.code; }
function valueText(v) {
  if (!v) return "";
  switch (v.type) {
    case "quantity": return `${v.value} ${v.unit}`;
    case "concept": return v.display || v.code;
    case "vector": return `[${v.values.join(", ")}] ${v.unit}`;
    default: return String(v.value);
  }
}
const isBound = (e) => e.category === "prediction" && /-(lower|upper)$/.test(e.code.code);
const current = (e) => e.retractedAtSequence === undefined && !e.erased;

// ---------- sign in ----------

function renderSignIn() {
  const area = el("textarea", { id: "token", name: "token", required: true, autocomplete: "off", spellcheck: "false" });
  const form = el("form", { class: "signin" },
    el("h1", { text: "Sign in" }),
    el("p", {}, "Paste an access token (", el("code", { text: "twinbank token issue --role clinician --subject ME" }),
      " makes one; ", el("code", { text: "twinbank serve" }), " prints a link that signs you in)."),
    el("label", { for: "token", text: "Access token" }), area,
    el("button", { type: "submit", text: "Sign in" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    setToken(area.value.trim());
    location.hash = "#/";
    route();
  });
  app().replaceChildren(form);
  area.focus();
}

function setToken(token) {
  state.token = token || null;
  if (token) sessionStorage.setItem("twinbank.token", token); else sessionStorage.removeItem("twinbank.token");
  document.getElementById("sign-out").hidden = !token;
}

// ---------- the twin list ----------

async function renderTwinList() {
  status("Loading twins…");
  const { items, truncated } = await allPages("/api/v1/twins", 100000);
  state.twinList = items.map((t) => t.id);
  const input = el("input", { id: "twin-search", type: "search", placeholder: "id contains…", autocomplete: "off" });
  const list = el("ul", { class: "twins", id: "twin-list" });
  const count = el("p", { class: "muted", id: "twin-count", "aria-live": "polite" });
  function show() {
    const q = input.value.trim().toLowerCase();
    const shown = state.twinList.filter((id) => id.toLowerCase().includes(q));
    list.replaceChildren(...shown.slice(0, 500).map((id) => el("li", {}, el("a", { href: "#/twins/" + encodeURIComponent(id), text: id }))));
    count.textContent = `${shown.length} of ${state.twinList.length} twins` + (shown.length > 500 ? " (the first 500 shown: narrow the search)" : "") +
      (truncated ? "; the bank holds more than were read" : "");
  }
  input.addEventListener("input", show);
  app().replaceChildren(el("h1", { text: "Twins" }),
    el("div", { class: "search" }, el("label", { for: "twin-search", text: "Search twins" }), input), count, list);
  show();
  status("");
}

// ---------- a twin's page ----------

/** Traces of one unit's chart: observations and predictions per code, prediction intervals as bands. */
function unitTraces(events) {
  const byCode = new Map();
  const bounds = new Map(); // "source|time" → { lower, upper }
  for (const e of events) {
    if (!e.value || e.value.type !== "quantity") continue;
    if (isBound(e)) {
      const k = e.source + "|" + e.effective.start;
      const b = bounds.get(k) || {};
      b[e.code.code.endsWith("-lower") ? "lower" : "upper"] = e.value.value;
      bounds.set(k, b);
      continue;
    }
    const key = conceptKey(e.code) + "|" + e.category;
    if (!byCode.has(key)) byCode.set(key, { code: e.code, category: e.category, x: [], y: [], keys: [] });
    const s = byCode.get(key);
    s.x.push(e.effective.start); s.y.push(e.value.value); s.keys.push(e.source + "|" + e.effective.start);
  }
  const traces = [];
  for (const s of byCode.values()) {
    const label = conceptLabel(s.code);
    if (s.category === "prediction") {
      const lo = [], hi = [], bx = [];
      s.keys.forEach((k, i) => { const b = bounds.get(k); if (b && b.lower !== undefined && b.upper !== undefined) { bx.push(s.x[i]); lo.push(b.lower); hi.push(b.upper); } });
      if (bx.length) {
        traces.push({ x: bx, y: lo, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, name: label + " interval (lower)" });
        traces.push({ x: bx, y: hi, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(10,79,191,0.18)", name: label + " prediction interval" });
      }
      traces.push({ x: s.x, y: s.y, mode: "lines", line: { dash: "dash", width: 2 }, name: label + " (forecast)" });
    } else {
      traces.push({ x: s.x, y: s.y, mode: s.x.length > 200 ? "lines" : "lines+markers", marker: { size: 5 }, name: label + (s.category === "observation" ? "" : ` (${s.category})`) });
    }
  }
  return traces;
}

function timelineTraces(events) {
  const interventions = events.filter((e) => e.category === "intervention");
  const alerts = events.filter((e) => e.category === "alert" || e.category === "recommendation");
  const traces = [];
  if (interventions.length) traces.push({
    x: interventions.map((e) => e.effective.start), y: interventions.map((e) => conceptLabel(e.code)), mode: "markers",
    marker: { symbol: "square", size: 10, color: "#2e7d32" }, name: "interventions",
    text: interventions.map((e) => valueText(e.value)), hovertemplate: "%{y}: %{text}<br>%{x}<extra></extra>" });
  if (alerts.length) traces.push({
    x: alerts.map((e) => e.effective.start), y: alerts.map((e) => conceptLabel(e.code)), mode: "markers",
    marker: { symbol: "triangle-up", size: 12, color: "#a50e0e" }, name: "alerts and recommendations",
    text: alerts.map((e) => valueText(e.value)), hovertemplate: "%{y}: %{text}<br>%{x}<extra></extra>" });
  return traces;
}

const plotConfig = { responsive: true, displaylogo: false };
function layout(title, yTitle) {
  return { title: { text: title, font: { size: 15 } }, margin: { l: 60, r: 20, t: 40, b: 40 }, xaxis: { type: "date" },
           yaxis: { title: { text: yTitle }, automargin: true }, legend: { orientation: "h", y: -0.2 }, hovermode: "closest" };
}

function drawCharts(container, events) {
  const live = events.filter(current);
  const byUnit = new Map();
  for (const e of live) {
    // numbers measured or forecast, one chart per unit; interventions and alerts go on the timeline
    if (!e.value || e.value.type !== "quantity" || (e.category !== "observation" && e.category !== "prediction")) continue;
    if (!byUnit.has(e.value.unit)) byUnit.set(e.value.unit, []);
    byUnit.get(e.value.unit).push(e);
  }
  const wanted = [];
  for (const [unit, list] of byUnit) {
    const codes = [...new Set(list.filter((e) => !isBound(e)).map((e) => conceptLabel(e.code)))];
    wanted.push({ id: "chart-" + unit.replace(/[^A-Za-z0-9]/g, "_"), title: codes.slice(0, 3).join(", ") + (codes.length > 3 ? "…" : ""),
                  unit, traces: unitTraces(list), points: list.length });
  }
  const timeline = timelineTraces(live);
  if (timeline.length) wanted.push({ id: "chart-timeline", title: "Interventions, alerts and recommendations", unit: "", traces: timeline,
                                     points: timeline.reduce((n, t) => n + t.x.length, 0) });
  for (const w of wanted) {
    let div = document.getElementById(w.id);
    if (!div) {
      div = el("div", { id: w.id, class: "chart", role: "img", "data-points": "0" });
      container.append(div);
    }
    div.setAttribute("aria-label", `${w.title}${w.unit ? " in " + w.unit : ""}: ${w.points} values over time`);
    div.setAttribute("data-points", String(w.points));
    Plotly.react(div, w.traces, layout(w.title, w.unit), plotConfig);
  }
  if (!wanted.length && !container.querySelector(".muted")) container.append(el("p", { class: "muted", text: "No numeric values to chart yet." }));
}

function latestTable(events) {
  const latest = new Map();
  for (const e of events.filter(current)) {
    if (e.category !== "observation" && e.category !== "alert") continue;
    const k = conceptKey(e.code) + "|" + e.category;
    const prev = latest.get(k);
    if (!prev || e.effective.start >= prev.effective.start) latest.set(k, e);
  }
  const rows = [...latest.values()].sort((a, b) => conceptLabel(a.code).localeCompare(conceptLabel(b.code)));
  return el("div", { class: "table-wrap" }, el("table", { id: "latest" },
    el("caption", { text: "Latest values (the same data as the charts, as a table)" }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "What" }), el("th", { scope: "col", text: "Value" }),
                       el("th", { scope: "col", text: "When" }), el("th", { scope: "col", text: "Source" }))),
    el("tbody", {}, rows.map((e) => el("tr", {},
      el("td", { class: e.category === "alert" ? "alert" : null, text: conceptLabel(e.code) + (e.category === "alert" ? " (alert)" : "") }),
      el("td", { text: valueText(e.value) }), el("td", { text: e.effective.start }), el("td", { text: e.source }))))));
}

async function loadEvents(id) {
  return allPages("/api/v1/twins/" + encodeURIComponent(id) + "/events", MAX_EVENTS);
}

async function renderTwin(id) {
  status("Loading " + id + "…");
  const twin = await api("/api/v1/twins/" + encodeURIComponent(id));
  let { items: events, truncated } = await loadEvents(id);
  const attrs = Object.entries(twin.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  const charts = el("section", { id: "charts", "aria-label": "Charts" });
  const live = el("p", { class: "live", id: "live", "aria-live": "off" });
  const latest = el("div", { id: "latest-wrap" }, latestTable(events));
  app().replaceChildren(...[
    el("h1", { text: `${twin.name || twin.id} (${twin.kind})` }),
    twin.forkOf ? el("p", {}, "Fork of ", el("a", { href: "#/twins/" + encodeURIComponent(twin.forkOf), text: twin.forkOf }),
                     twin.forkedAt ? ` at ${twin.forkedAt}` : "") : null,
    el("p", { class: "muted", id: "event-count", text: `${events.length} events in the thread${truncated ? ` (the first ${MAX_EVENTS} shown)` : ""}` }),
    live, charts, el("h2", { text: "Latest values" }), latest,
    el("details", {}, el("summary", { text: `Attributes (${attrs.length})` }),
      el("div", { class: "table-wrap" }, el("table", {}, el("caption", { text: "Attributes" }),
        el("tbody", {}, attrs.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: valueText(v) })))))))
  ].filter((n) => n !== null));
  drawCharts(charts, events);
  status("");
  document.title = `${twin.id} · Twinbank`;
  // live while the page is open: the twin's event stream, new events drawn as they come (a few times a second at most)
  let seen = events.reduce((m, e) => Math.max(m, e.sequence), 0);
  const controller = new AbortController();
  state.live = controller;
  let redraw = null;
  const scheduleRedraw = () => {
    if (redraw) return;
    redraw = setTimeout(() => {
      redraw = null;
      drawCharts(charts, events);
      latest.replaceChildren(latestTable(events));
      document.getElementById("event-count").textContent = `${events.length} events in the thread`;
    }, REDRAW_MS);
  };
  const follow = async () => {
    while (!controller.signal.aborted) {
      // one attempt's own signal, so a broken attempt's request is closed too
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      controller.signal.addEventListener("abort", stop);
      try {
        live.textContent = "Live: new events appear as they are recorded";
        await streamEvents(id, seen, attempt.signal, (name, data) => {
          if (name === "dropped") { live.textContent = `Live: ${data.count} updates were missed; reloading`; throw new Error("dropped"); }
          if (!data.event || data.event.sequence <= seen) return;
          seen = data.event.sequence;
          events.push(data.event);
          if (name === "alert") live.textContent = "Alert: " + conceptLabel(data.event.code) + " at " + data.event.effective.start;
          scheduleRedraw();
        });
      } catch (e) {
        if (controller.signal.aborted) return;
        live.textContent = "Live updates paused (" + e.message + "); retrying";
      } finally {
        attempt.abort();
        controller.signal.removeEventListener("abort", stop);
      }
      if (controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, RETRY_MS));
      try {   // catch up on what the break missed, then stream again from there
        const fresh = await loadEvents(id);
        events = fresh.items;
        seen = events.reduce((m, e) => Math.max(m, e.sequence), 0);
        scheduleRedraw();
      } catch (_) { /* the next attempt says why */ }
    }
  };
  follow();
}

// ---------- routing ----------

async function route() {
  if (state.live) { state.live.abort(); state.live = null; }
  const hash = location.hash || "#/";
  if (hash.startsWith("#token=")) {
    // #token=JWT[&next=/twins/ID]: sign in, then go on to `next` (default the twin list)
    const params = new URLSearchParams(hash.slice(1));
    setToken(params.get("token"));
    const next = params.get("next") || "/";
    history.replaceState(null, "", location.pathname + "#" + (next.startsWith("/") ? next : "/"));
    return route();
  }
  if (!state.token) return renderSignIn();
  try {
    const m = hash.match(/^#\/twins\/(.+)$/);
    if (m) await renderTwin(decodeURIComponent(m[1])); else await renderTwinList();
    document.getElementById("main").focus({ preventScroll: true });
  } catch (e) { status(""); showError(e); }
}

document.addEventListener("DOMContentLoaded", () => {
  setToken(sessionStorage.getItem("twinbank.token"));
  const purpose = document.getElementById("purpose");
  purpose.value = sessionStorage.getItem("twinbank.purpose") || "treatment";
  state.purpose = purpose.value;
  purpose.addEventListener("change", () => { state.purpose = purpose.value; sessionStorage.setItem("twinbank.purpose", purpose.value); route(); });
  document.getElementById("sign-out").addEventListener("click", () => { setToken(null); location.hash = "#/"; route(); });
  window.addEventListener("hashchange", route);
  route();
});
