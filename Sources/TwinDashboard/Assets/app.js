// Twinbank dashboard: a single page over the HTTP API (/api/v1). No build step, no CDN: plotly.js is vendored.
// Routes (in the URL fragment): #/ the twin list, #/twins/ID a twin's page (thread, forks, latest comparison),
// #/aggregates the aggregate list, #/aggregates/ID an aggregate's page (members, distributions, risk maps on a grid and over GeoJSON regions). #token=JWT[&next=/twins/ID] (as
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

async function api(path, post) {
  const headers = { "Accept": "application/json", "X-Purpose-Of-Use": state.purpose };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (post) headers["Content-Type"] = post.type;
  const response = await fetch(path, post ? { method: "POST", headers, body: post.body } : { headers });
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
    live, charts,
    el("section", { class: "side-by-side", "aria-label": "Forks and comparison" },
      el("div", { id: "forks" }, el("h2", { text: "Forks" }), el("p", { class: "muted", text: "Loading forks…" })),
      el("div", { id: "comparison" }, el("h2", { text: "In-silico comparison" }), el("p", { class: "muted", text: "Loading the latest comparison…" }))),
    el("div", { id: "comparison-charts" }),
    el("h2", { text: "Latest values" }), latest,
    el("details", {}, el("summary", { text: `Attributes (${attrs.length})` }),
      el("div", { class: "table-wrap" }, el("table", {}, el("caption", { text: "Attributes" }),
        el("tbody", {}, attrs.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: valueText(v) })))))))
  ].filter((n) => n !== null));
  drawCharts(charts, events);
  status("");
  document.title = `${twin.id} · Twinbank`;
  // the forks and the comparison fill their boxes when they arrive (a box left by then is not filled)
  renderForks(id);
  renderComparison(id).catch((e) => {
    const box = document.getElementById("comparison");
    if (box) box.append(el("p", { class: "error", text: "Could not draw the comparison: " + e.message }));
  });
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


// ---------- a twin's forks and its latest in-silico comparison ----------

const twinLink = (id, text) => el("a", { href: "#/twins/" + encodeURIComponent(id), text: text || id });

async function renderForks(id) {
  const box = document.getElementById("forks");
  try {
    const { items, truncated } = await allPages("/api/v1/twins/" + encodeURIComponent(id) + "/forks", 10000);
    if (!box.isConnected) return;
    box.replaceChildren(el("h2", { text: `Forks (${items.length}${truncated ? "+" : ""})` }),
      items.length ? el("ul", { class: "forks", id: "fork-list" }, items.map((f) => el("li", {}, twinLink(f.id))))
                   : el("p", { class: "muted", text: "No twin is forked from this one." }));
  } catch (e) {
    if (!box.isConnected) return;
    box.replaceChildren(el("h2", { text: "Forks" }), el("p", { class: "error", text: "Could not read the forks: " + e.message }));
  }
}

/** The latest comparison: its options ranked (a table) and each option's predicted trajectory (one chart per unit, a trace per option). */
async function renderComparison(id) {
  const box = document.getElementById("comparison"), charts = document.getElementById("comparison-charts");
  let c;
  try {
    c = await api("/api/v1/twins/" + encodeURIComponent(id) + "/comparisons/latest");
  } catch (e) {
    if (!box.isConnected) return;
    const text = e instanceof APIError && e.status === 404 && e.code === "notFound"
      ? "No in-silico comparison is recorded for this twin (twinbank compare records one)." : "Could not read the comparison: " + e.message;
    box.replaceChildren(el("h2", { text: "In-silico comparison" }), el("p", { class: e.status === 404 ? "muted" : "error", text }));
    return;
  }
  box.replaceChildren(el("h2", { text: "In-silico comparison" }),
    el("p", { class: "muted", text: `Recorded ${c.recorded} by ${c.source}, from ${c.effective}` }),
    el("div", { class: "table-wrap" }, el("table", { id: "comparison-table" },
      el("caption", { text: "Options ranked, best first (each links to its fork)" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Rank" }), el("th", { scope: "col", text: "Option" }), el("th", { scope: "col", text: "Figures" }))),
      el("tbody", {}, c.options.map((o) => el("tr", {},
        el("td", { text: String(o.rank) }), el("td", {}, o.fork ? twinLink(o.fork, o.name) : o.name), el("td", { text: o.figures })))))));
  // each option's fork holds its predictions: the fork's own prediction events, a trace per option on shared axes
  const series = await Promise.all(c.options.filter((o) => o.fork).map(async (o) => {
    try {
      const { items } = await allPages("/api/v1/twins/" + encodeURIComponent(o.fork) + "/events?category=prediction", MAX_EVENTS);
      return { option: o, events: items.filter((e) => e.twin === o.fork && current(e) && !isBound(e) && e.value && e.value.type === "quantity") };
    } catch (e) { return { option: o, events: [], error: e.message }; }
  }));
  if (!charts.isConnected) return;
  const byUnit = new Map();
  for (const s of series) for (const e of s.events) {
    if (!byUnit.has(e.value.unit)) byUnit.set(e.value.unit, new Map());
    const perOption = byUnit.get(e.value.unit);
    if (!perOption.has(s.option.name)) perOption.set(s.option.name, { x: [], y: [], label: conceptLabel(e.code) });
    perOption.get(s.option.name).x.push(e.effective.start); perOption.get(s.option.name).y.push(e.value.value);
  }
  const failed = series.filter((s) => s.error);
  const nodes = [el("h2", { text: "Predicted trajectories of the options" })];
  if (failed.length) nodes.push(el("p", { class: "error", text: "Could not read the forks of " + failed.map((s) => s.option.name).join(", ") + ": " + failed[0].error }));
  if (!byUnit.size) nodes.push(el("p", { class: "muted", text: "The options' forks hold no predictions to draw." }));
  charts.replaceChildren(...nodes);
  for (const [unit, perOption] of byUnit) {
    const traces = [...perOption.entries()].map(([name, t]) => {
      const rank = c.options.find((o) => o.name === name).rank;
      return { x: t.x, y: t.y, mode: "lines", name: `${rank}. ${name}`, line: { width: rank === 1 ? 3 : 2 } };
    });
    const points = traces.reduce((n, t) => n + t.x.length, 0);
    const label = [...new Set([...perOption.values()].map((t) => t.label))].join(", ");
    const div = el("div", { id: "comparison-chart-" + unit.replace(/[^A-Za-z0-9]/g, "_"), class: "chart", role: "img", "data-points": String(points),
                            "data-traces": String(traces.length), "aria-label": `${label} in ${unit} predicted under ${traces.length} options: ${points} values` });
    charts.append(div);
    Plotly.react(div, traces, layout(`${label}: predicted under each option`, unit), plotConfig);
  }
}

// ---------- aggregates ----------

async function renderAggregateList() {
  status("Loading aggregates…");
  const { items, truncated } = await allPages("/api/v1/aggregates", 100000);
  app().replaceChildren(el("h1", { text: "Aggregates" }),
    el("p", { class: "muted", id: "aggregate-count", text: `${items.length} aggregates${truncated ? " (the bank holds more than were read)" : ""}` }),
    items.length ? el("ul", { class: "twins", id: "aggregate-list" }, items.map((a) => el("li", {},
      el("a", { href: "#/aggregates/" + encodeURIComponent(a.id) }, el("strong", { text: a.id }),
        a.description ? el("span", { class: "muted block", text: a.description }) : null,
        a.query ? el("code", { class: "block", text: a.query }) : null))))
      : el("p", { class: "muted", text: "The bank has no aggregate (twinbank aggregate create makes one)." }));
  status("");
  document.title = "Aggregates · Twinbank";
}

/** A histogram's layout: counts of members on whole-number ticks (about five of them up to `most`). */
const histogramLayout = (title, xTitle, most) => ({ title: { text: title, font: { size: 15 }, x: 0.02, xanchor: "left" }, margin: { l: 50, r: 20, t: 40, b: 50 }, bargap: 0.05,
  xaxis: { title: { text: xTitle }, automargin: true },
  yaxis: { title: { text: "members" }, rangemode: "tozero", tick0: 0, dtick: Math.max(1, Math.ceil(most / 5)), automargin: true }, hovermode: "closest" });

/** A histogram's chart (bars at the bins' middles, as wide as the bins) with its figures in its label. */
function histogramChart(id, h, title) {
  const unit = h.unit === "a" ? "years" : h.unit === "1" ? "" : h.unit;   // UCUM: a is a year, 1 a plain number
  const width = (b) => (b.upper > b.lower ? b.upper - b.lower : 1);
  const trace = { type: "bar", x: h.bins.map((b) => (b.lower + b.upper) / 2), y: h.bins.map((b) => b.count), width: h.bins.map((b) => width(b) * 0.98),
                  marker: { color: "#0a4fbf" }, name: title, textposition: "none",
                  text: h.bins.map((b) => `${fmt(b.lower)}–${fmt(b.upper)} ${unit}: ${b.count}`), hovertemplate: "%{text}<extra></extra>" };
  const div = el("div", { id, class: "chart", role: "img", "data-points": String(h.count),
    "aria-label": `${title}: ${h.count} members, ${fmt(h.minimum)} to ${fmt(h.maximum)} ${unit}, mean ${fmt(h.mean)}` +
                  (h.otherUnits ? `; ${h.otherUnits} in other units not counted` : "") });
  return { div, draw: () => Plotly.react(div, [trace], histogramLayout(title, unit, Math.max(...h.bins.map((b) => b.count))), plotConfig) };
}

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function fmt(x) { return Math.abs(x) >= 100 || Number.isInteger(x) ? String(Math.round(x * 10) / 10) : x.toPrecision(3); }

async function renderAggregate(id, params) {
  status("Loading " + id + "…");
  const path = "/api/v1/aggregates/" + encodeURIComponent(id);
  const members = await api(path + "/members?limit=1000");
  const a = members.aggregate;
  const distribution = el("section", { id: "distribution", "aria-label": "Distributions" }, el("h2", { text: "Distributions" }), el("p", { class: "muted", text: "Computing…" }));
  const map = el("section", { id: "risk-map", "aria-label": "Risk map" }, el("h2", { text: "Public-health risk map" }), el("p", { class: "muted", text: "Computing…" }));
  const regions = el("section", { id: "region-map", "aria-label": "Risk map over regions" });
  app().replaceChildren(...[
    el("h1", { text: `Aggregate ${a.id}` }),
    a.description ? el("p", { text: a.description }) : null,
    a.query ? el("p", {}, "Query: ", el("code", { text: a.query })) : null,
    el("details", { id: "members" }, el("summary", { text: `Members (${members.total}${members.unknown ? `; ${members.unknown} twin${members.unknown === 1 ? "" : "s"} not decided: a value the query needs is missing` : ""})` }),
      el("ul", { class: "twins" }, members.items.map((t) => el("li", {}, twinLink(t.id)))),
      members.nextCursor ? el("p", { class: "muted", text: `The first ${members.items.length} shown.` }) : null),
    distribution, map, regions].filter((n) => n !== null));
  status("");
  document.title = `${a.id} · Twinbank`;
  // computed by the server over the whole aggregate: each section is filled when its answer arrives
  for (const [work, box] of [[renderDistribution(id, distribution, params.get("code")), distribution],
                             [renderRiskMap(id, map, params.get("grid") || "1km", params.get("date")), map],
                             [renderRegionMap(id, regions, params), regions]]) {
    work.catch((e) => { if (box.isConnected) box.append(el("p", { class: "error", text: "Could not draw this: " + e.message })); });
  }
}

function refusedText(e, what) {
  if (e instanceof APIError && e.status === 403)
    return `${what} are computed over the whole aggregate, which needs the aggregate permission (a researcher for research, a public-health officer for public health, an admin; choose the purpose above): ${e.message}`;
  return `Could not compute the ${what.toLowerCase()}: ${e.message}`;
}

async function renderDistribution(id, box, code) {
  let d;
  try {
    d = await api("/api/v1/aggregates/" + encodeURIComponent(id) + "/distribution" + (code ? "?code=" + encodeURIComponent(code) : ""));
  } catch (e) {
    if (!box.isConnected) return;
    box.replaceChildren(el("h2", { text: "Distributions" }), el("p", { class: "error", text: refusedText(e, "Distributions") }));
    return;
  }
  if (!box.isConnected) return;
  const nodes = [el("h2", { text: "Distributions" }),
    el("p", { class: "muted", id: "distribution-summary", text: `${plural(d.members, "member")} counted` + (d.refused ? `; ${d.refused} left out (their consent or the policy refuses this use)` : "") })];
  const draws = [];
  if (d.codes.length) {
    const select = el("select", { id: "distribution-code" }, d.codes.map((c) => el("option", { value: c.code, text: `${c.code} (${plural(c.members, "member")})` })));
    select.value = d.code || d.codes[0].code;
    // a form with a button, not a change handler: choosing with the keyboard does not reload at each step (WCAG 3.2.2)
    const form = el("form", { class: "map-form", id: "distribution-form" },
      el("label", { for: "distribution-code", text: "Latest value of" }), select, el("button", { type: "submit", text: "Show" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = currentParams();
      q.set("code", select.value);
      location.hash = `#/aggregates/${encodeURIComponent(id)}?${q}`;
    });
    nodes.push(form);
  }
  if (d.values) {
    const h = histogramChart("histogram-values", d.values, `Latest ${d.code} of each member`);
    nodes.push(h.div); draws.push(h.draw);
    if (d.values.otherUnits) nodes.push(el("p", { class: "muted", text: `${d.values.otherUnits} members' latest value is in another unit than ${d.values.unit}: not counted.` }));
  } else {
    nodes.push(el("p", { class: "muted", text: d.code ? `No member has a numeric value of ${d.code}.` : "No member holds a numeric observation." }));
  }
  const small = el("div", { class: "charts-grid" });
  for (const a of d.attributes) {
    const h = histogramChart("histogram-" + a.name.replace(/[^A-Za-z0-9]/g, "_"), a, a.name === "age" ? "Age (years)" : a.name);
    small.append(h.div); draws.push(h.draw);
  }
  for (const c of d.categories) {
    const div = el("div", { id: "categories-" + c.name.replace(/[^A-Za-z0-9]/g, "_"), class: "chart", role: "img", "data-points": String(c.count),
                            "aria-label": `${c.name}: ` + c.counts.map((k) => `${k.value} ${k.count}`).join(", ") });
    small.append(div);
    draws.push(() => Plotly.react(div, [{ type: "bar", x: c.counts.map((k) => k.value), y: c.counts.map((k) => k.count), marker: { color: "#2e7d32" }, name: c.name }],
                                  histogramLayout(c.name, "", Math.max(...c.counts.map((k) => k.count))), plotConfig));
  }
  if (small.childElementCount) nodes.push(el("h3", { text: "Attributes" }), small);
  box.replaceChildren(...nodes);
  for (const draw of draws) draw();
}

/** The page's own parameters (after `?` in the fragment), so one form keeps what the other chose. */
function currentParams() { return new URLSearchParams(location.hash.split("?")[1] || ""); }

const GRIDS = ["250m", "500m", "1km", "2km", "5km", "10km"];
const LEVELS = ["low", "moderate", "substantial", "high"];

async function renderRiskMap(id, box, grid, date) {
  const form = el("form", { class: "map-form", id: "risk-map-form" },
    el("label", { for: "risk-grid", text: "Cells" }), el("select", { id: "risk-grid" }, GRIDS.map((g) => el("option", { value: g, text: g }))),
    el("label", { for: "risk-date", text: "Day" }), el("input", { id: "risk-date", type: "date", value: date || "" }),
    el("button", { type: "submit", text: "Show" }));
  form.querySelector("#risk-grid").value = GRIDS.includes(grid) ? grid : "1km";
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = currentParams();
    q.set("grid", form.querySelector("#risk-grid").value);
    if (form.querySelector("#risk-date").value) q.set("date", form.querySelector("#risk-date").value); else q.delete("date");
    location.hash = `#/aggregates/${encodeURIComponent(id)}?${q}`;
  });
  let m;
  try {
    const q = new URLSearchParams({ grid });
    if (date) q.set("date", date);
    m = await api("/api/v1/aggregates/" + encodeURIComponent(id) + "/risk-map?" + q);
  } catch (e) {
    if (!box.isConnected) return;
    box.replaceChildren(el("h2", { text: "Public-health risk map" }), form, el("p", { class: "error", text: refusedText(e, "Risk maps") }));
    return;
  }
  if (!box.isConnected) return;
  if (!m.located) {
    box.replaceChildren(el("h2", { text: "Public-health risk map" }),
      el("p", { class: "muted", id: "risk-map-empty", text: `No person twin of this aggregate has a location (home_lat and home_lon attributes, or location pings)${m.unlocated ? `; ${m.unlocated} without one` : ""}: there is no map to draw.` }));
    return;
  }
  const levels = Object.entries(m.levels || {}).map(([l, n]) => `${l} ${n}`).join(", ");
  const div = el("div", { id: "risk-map-chart", class: "chart map", role: "img", "data-cells": String(m.features.length),
    "aria-label": `Risk level of ${m.features.length} cells of ${m.grid} m on ${m.date}: ${levels}` });
  const byLevel = new Map();
  let lat0 = 0;
  for (const f of m.features) {
    const key = f.properties.level || "no data";
    if (!byLevel.has(key)) byLevel.set(key, { x: [], y: [], colour: f.properties.colour, cx: [], cy: [], text: [] });
    const t = byLevel.get(key), ring = f.geometry.coordinates[0];
    for (const [lon, lat] of ring) { t.x.push(lon); t.y.push(lat); }
    t.x.push(null); t.y.push(null);
    const cx = ring.slice(0, -1).reduce((s, p) => s + p[0], 0) / (ring.length - 1), cy = ring.slice(0, -1).reduce((s, p) => s + p[1], 0) / (ring.length - 1);
    lat0 += cy;
    const p = f.properties;
    t.cx.push(cx); t.cy.push(cy);
    t.text.push(`${p.name}: ${p.level || "no data"}<br>${p.population} people, ${p.cases7d} cases, ${p.tests7d} tests in 7 days` + (p.reasons.length ? "<br>" + p.reasons.join("; ") : ""));
  }
  lat0 /= m.features.length;
  const order = [...LEVELS, "no data"].filter((l) => byLevel.has(l));
  const traces = [];
  for (const l of order) {
    const t = byLevel.get(l);
    traces.push({ type: "scatter", x: t.x, y: t.y, mode: "lines", fill: "toself", fillcolor: t.colour, line: { color: "#555", width: 0.5 }, name: l, hoverinfo: "skip" });
    traces.push({ type: "scatter", x: t.cx, y: t.cy, mode: "markers", marker: { size: 6, color: "#1b1b1b", opacity: 0.5 }, text: t.text, hovertemplate: "%{text}<extra></extra>", showlegend: false, name: l + " cells" });
  }
  const rows = m.features.filter((f) => f.properties.level && LEVELS.indexOf(f.properties.level) >= 2);
  box.replaceChildren(el("h2", { text: "Public-health risk map" }), form,
    el("p", { class: "muted", id: "risk-map-summary", text: `${m.located} people located in ${m.features.length} cells of ${m.grid} m` +
      (m.unlocated ? `, ${m.unlocated} without a location` : "") + (m.refused ? `, ${m.refused} left out` : "") + `; 7 days to ${m.date} (counted from ${m.firstDate}). Levels: ${levels}.` }),
    div,
    el("div", { class: "table-wrap" }, el("table", { id: "risk-table" },
      el("caption", { text: rows.length ? "Cells at substantial or high risk" : "No cell is at substantial or high risk" }),
      el("thead", {}, el("tr", {}, ["Cell", "Level", "People", "Cases (7 days)", "Why"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.slice(0, 200).map((f) => el("tr", {}, el("td", { text: f.properties.name }), el("td", { text: f.properties.level }),
        el("td", { text: String(f.properties.population) }), el("td", { text: String(f.properties.cases7d) }), el("td", { text: f.properties.reasons.join("; ") })))))));
  Plotly.react(div, traces, { title: { text: `Risk level by ${m.grid} m cell, 7 days to ${m.date}`, font: { size: 15 } }, margin: { l: 60, r: 20, t: 40, b: 40 },
    xaxis: { title: { text: "longitude" } }, yaxis: { title: { text: "latitude" }, scaleanchor: "x", scaleratio: 1 / Math.max(Math.cos(lat0 * Math.PI / 180), 0.01) },
    legend: { orientation: "h", y: -0.2 }, hovermode: "closest" }, plotConfig);
}

/**
 * The risk map over regions the user gives as a GeoJSON file (a FeatureCollection of Polygon and MultiPolygon
 * features): POSTed to /api/v1/aggregates/ID/risk-map, drawn as a choropleth (each region filled with its level's
 * colour) with a table of every region beside it. The file stays in this browser tab (sessionStorage, per
 * aggregate) so the page redraws it; `regions=GEOJSON` in the page's parameters (a link that carries small regions)
 * draws those instead.
 */
async function renderRegionMap(id, box, params) {
  const key = "twinbank.regions." + id;
  const title = el("h2", { text: "Risk map over regions" });
  const form = el("form", { class: "map-form", id: "region-form" },
    el("label", { for: "region-file", text: "GeoJSON regions file" }),
    el("input", { id: "region-file", type: "file", accept: ".geojson,.json,application/geo+json,application/json" }),
    el("label", { for: "region-name", text: "Name property" }),
    el("input", { id: "region-name", type: "text", size: "10", placeholder: "first text property", value: params.get("nameProperty") || "" }),
    el("label", { for: "region-date", text: "Day" }), el("input", { id: "region-date", type: "date", value: params.get("date") || "" }),
    el("button", { type: "submit", text: "Draw" }));
  const out = el("div", { id: "region-map-result", "aria-live": "polite" });
  box.replaceChildren(title, el("p", { class: "muted", text: "Load a GeoJSON file of regions (districts, wards, postcode areas) to see each region's risk level." }), form, out);
  const draw = async (text, name) => {
    let regions;
    try { regions = JSON.parse(text); } catch (e) {
      out.replaceChildren(el("p", { class: "error", id: "region-error", text: "The file is not JSON: " + e.message }));
      return;
    }
    out.replaceChildren(el("p", { class: "muted", text: "Computing…" }));
    const q = new URLSearchParams();
    if (form.querySelector("#region-name").value) q.set("nameProperty", form.querySelector("#region-name").value);
    if (form.querySelector("#region-date").value) q.set("date", form.querySelector("#region-date").value);
    let m;
    try {
      m = await api("/api/v1/aggregates/" + encodeURIComponent(id) + "/risk-map" + (q.toString() ? "?" + q : ""), { type: "application/geo+json", body: JSON.stringify(regions) });
    } catch (e) {
      if (!box.isConnected) return;
      out.replaceChildren(el("p", { class: "error", id: "region-error", text: e instanceof APIError && e.status === 400 ? `The regions were refused: ${e.message}` : refusedText(e, "Risk maps") }));
      return;
    }
    if (!box.isConnected) return;
    try { sessionStorage.setItem(key, text); } catch (_) { /* too large to keep: drawn once */ }
    drawRegionMap(m, out, name);
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = form.querySelector("#region-file").files[0];
    const kept = sessionStorage.getItem(key);
    if (!file && !kept) { out.replaceChildren(el("p", { class: "error", id: "region-error", text: "Choose a GeoJSON file first." })); return; }
    await draw(file ? await file.text() : kept, file ? file.name : "the regions loaded before");
  });
  const given = params.get("regions");
  const kept = given || sessionStorage.getItem(key);
  if (kept) await draw(kept, given ? "the page's regions" : "the regions loaded before");
}

/** Draws a region risk map `m` (the API's RegionRiskMap) into `out`: the choropleth and the table of regions. */
function drawRegionMap(m, out, name) {
  const levels = Object.entries(m.levels || {}).map(([l, n]) => `${l} ${n}`).join(", ");
  const summary = el("p", { class: "muted", id: "region-map-summary", text: `${m.features.length} regions from ${name}: ${m.located} people located in them` +
    (m.unlocated ? `, ${m.unlocated} without a location or outside every region` : "") + (m.refused ? `, ${m.refused} left out` : "") +
    (m.date ? `; 7 days to ${m.date} (counted from ${m.firstDate})` : "") + (levels ? `. Levels: ${levels}.` : ".") });
  const colours = { low: "#2e7d32", moderate: "#f9a825", substantial: "#ef6c00", high: "#c62828", "no data": "#e0e0e0" };
  const byLevel = new Map();
  let lat0 = 0, n0 = 0;
  for (const f of m.features) {
    const p = f.properties, level = p.level || "no data";
    if (!byLevel.has(level)) byLevel.set(level, { x: [], y: [], colour: p.colour || colours[level] || "#e0e0e0", cx: [], cy: [], text: [] });
    const t = byLevel.get(level);
    let sx = 0, sy = 0, n = 0;
    for (const polygon of f.geometry.coordinates) {
      polygon.forEach((ring, k) => {
        for (const [lon, lat] of ring) { t.x.push(lon); t.y.push(lat); if (k === 0) { sx += lon; sy += lat; n += 1; } }
        t.x.push(null); t.y.push(null);
      });
    }
    if (n) { t.cx.push(sx / n); t.cy.push(sy / n); lat0 += sy / n; n0 += 1; }
    else { t.cx.push(null); t.cy.push(null); }
    t.text.push(`${p.name}: ${level}<br>${p.population} people, ${p.cases7d} cases, ${p.tests7d} tests in 7 days` + (p.reasons.length ? "<br>" + p.reasons.join("; ") : ""));
  }
  lat0 = n0 ? lat0 / n0 : 0;
  const traces = [];
  for (const l of [...LEVELS, "no data"].filter((l) => byLevel.has(l))) {
    const t = byLevel.get(l);
    traces.push({ type: "scatter", x: t.x, y: t.y, mode: "lines", fill: "toself", fillcolor: t.colour, line: { color: "#333", width: 0.8 }, name: l, hoverinfo: "skip" });
    traces.push({ type: "scatter", x: t.cx, y: t.cy, mode: "markers", marker: { size: 7, color: "#1b1b1b", opacity: 0.5 }, text: t.text, hovertemplate: "%{text}<extra></extra>", showlegend: false, name: l + " regions" });
  }
  const div = el("div", { id: "region-map-chart", class: "chart map", role: "img", "data-regions": String(m.features.length),
    "aria-label": `Risk level of ${m.features.length} regions${m.date ? " on " + m.date : ""}: ${levels || "none assessed"}. The table below lists every region.` });
  const table = el("div", { class: "table-wrap" }, el("table", { id: "region-table" },
    el("caption", { text: "Every region, highest risk first" }),
    el("thead", {}, el("tr", {}, ["Region", "Level", "People", "Cases (7 days)", "Incidence per 100,000", "Why"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, [...m.features].sort((a, b) => LEVELS.indexOf(b.properties.level) - LEVELS.indexOf(a.properties.level)).map((f) => el("tr", {},
      el("th", { scope: "row", text: f.properties.name }), el("td", { text: f.properties.level || "no data" }),
      el("td", { text: String(f.properties.population) }), el("td", { text: String(f.properties.cases7d) }),
      el("td", { text: f.properties.incidence7dPer100k === undefined ? "" : fmt(f.properties.incidence7dPer100k) }),
      el("td", { text: f.properties.reasons.join("; ") }))))));
  out.replaceChildren(summary, div, table);
  if (!m.features.length) return;
  Plotly.react(div, traces, { title: { text: `Risk level by region${m.date ? ", 7 days to " + m.date : ""}`, font: { size: 15 } }, margin: { l: 60, r: 20, t: 40, b: 40 },
    xaxis: { title: { text: "longitude" } }, yaxis: { title: { text: "latitude" }, scaleanchor: "x", scaleratio: 1 / Math.max(Math.cos(lat0 * Math.PI / 180), 0.01) },
    legend: { orientation: "h", y: -0.2 }, hovermode: "closest" }, plotConfig);
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
  for (const a of document.querySelectorAll("[data-nav]")) {
    const here = a.dataset.nav === (hash.startsWith("#/aggregates") ? "aggregates" : hash === "#/" || hash.startsWith("#/twins") ? "twins" : "");
    if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (!state.token) return renderSignIn();
  try {
    const [path, query] = hash.slice(1).split("?");
    const params = new URLSearchParams(query || "");
    let m;
    if ((m = path.match(/^\/twins\/(.+)$/))) await renderTwin(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/aggregates\/(.+)$/))) await renderAggregate(decodeURIComponent(m[1]), params);
    else if (path === "/aggregates") await renderAggregateList();
    else await renderTwinList();
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
