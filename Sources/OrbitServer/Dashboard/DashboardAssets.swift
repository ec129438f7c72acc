/// The dashboard's files, compiled into the binary so that `orbit serve` needs nothing beside it
/// and the page loads nothing from the network: one HTML page, its style and its script, which
/// draws every view (overview, user explorer, leaderboards) from the JSON API, charts as SVG.
/// The browser test (scripts/live/browser_test.py) is what runs the script.
enum DashboardAssets {
    /// `GET /dashboard`.
    static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orbit dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body data-ready="false">
<header>
<h1>Orbit</h1>
<nav>
<a href="#/overview" data-view="overview">Overview</a>
<a href="#/user" data-view="user">User explorer</a>
<a href="#/leaderboards" data-view="leaderboards">Leaderboards</a>
</nav>
</header>
<main id="main"><p class="muted">Loading…</p></main>
</body>
</html>
"""#

    /// `GET /dashboard/app.css`.
    static let style = #"""
:root { --fg: #1b1f24; --muted: #5c6670; --line: #d8dde3; --bg: #f6f7f9; --card: #fff; --accent: #2563eb; --accent2: #d9480f; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; padding: 10px 16px; background: #111827; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
nav { display: flex; gap: 4px; flex-wrap: wrap; }
nav a { color: #cbd5e1; text-decoration: none; padding: 6px 10px; border-radius: 6px; }
nav a.active, nav a:hover { background: #1f2937; color: #fff; }
main { padding: 12px; max-width: 1280px; margin: 0 auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 12px; min-width: 0; }
.card h2 { font-size: 15px; margin: 0 0 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.empty td { color: var(--muted); font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
figure.chart { margin: 0 0 10px; }
figure.chart figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
figure.chart svg { width: 100%; max-width: 560px; height: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
svg .bar { fill: var(--accent); }
svg .label, svg .value, svg .legend { font-size: 11px; fill: var(--fg); }
svg .axis { stroke: var(--muted); }
svg .line { fill: none; stroke-width: 2; }
svg .line.a { stroke: var(--accent2); } svg .line.b { stroke: var(--accent); }
svg .legend.a { fill: var(--accent2); } svg .legend.b { fill: var(--accent); }
form.lookup { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
form.lookup input, form.lookup select { padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; min-width: 0; flex: 1 1 140px; }
form.lookup button { padding: 6px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
a.user { color: var(--accent); }
.muted { color: var(--muted); font-size: 12px; }
.error { color: #b91c1c; }
@media (max-width: 560px) { main { padding: 6px; } .card { padding: 10px; } th, td { padding: 3px 5px; } }
"""#

    /// `GET /dashboard/app.js`.
    static let script = #"""
// Orbit's dashboard: static, talks to the JSON API only (the same routes any client calls).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const state = { token: sessionStorage.getItem("orbit.readToken") || "", previous: null, timer: null, logics: null, doc: null };

class NeedsToken extends Error {}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const r = await fetch(path, { headers });
  if (r.status === 401) throw new NeedsToken();
  const type = r.headers.get("content-type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const e = new Error(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

const fmt = {
  int: (n) => (n === undefined || n === null ? "—" : Number(n).toLocaleString("en")),
  num: (n, d = 3) => (n === undefined || n === null || Number.isNaN(n) ? "—" : Number(n).toFixed(d)),
  ms: (s) => (s === null || s === undefined ? "—" : typeof s === "object" ? `> ${(s.over * 1000).toFixed(0)} ms`
    : (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms"),
  age: (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`),
  time: (unix) => (unix ? new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 16) : "—"),
};

// ---- tables and charts: each marks itself rendered, so a test can tell a drawn view from a broken one

function table(name, columns, rows, empty = "nothing to show") {
  const t = el("table", { "data-table": name, "data-rows": rows.length });
  t.append(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { text: c.title })))));
  const body = el("tbody");
  if (rows.length === 0) body.append(el("tr", { class: "empty" }, el("td", { colspan: columns.length, text: empty })));
  for (const row of rows) {
    const tr = el("tr");
    for (const c of columns) {
      const v = c.value(row);
      tr.append(el("td", { class: c.numeric ? "num" : null }, v instanceof Node ? v : String(v ?? "—")));
    }
    body.append(tr);
  }
  t.append(body);
  t.dataset.rendered = "true";
  return el("div", { class: "scroll" }, t);
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function figure(name, title, draw) {
  const f = el("figure", { class: "chart", "data-chart": name });
  f.append(el("figcaption", { text: title }));
  const s = svg("svg", { role: "img", "aria-label": title, preserveAspectRatio: "xMinYMin meet" });
  f.append(s);
  const drawn = draw(s);
  f.dataset.rendered = drawn ? "true" : "empty";
  if (!drawn) f.append(el("p", { class: "muted", text: "no data yet" }));
  return f;
}

/** Horizontal bars: [{label, value, title}] */
function bars(name, title, items, unit = (v) => fmt.int(v)) {
  return figure(name, title, (s) => {
    if (items.length === 0) { s.setAttribute("viewBox", "0 0 400 20"); return false; }
    const row = 22, labelW = 150, w = 400, max = Math.max(...items.map((i) => i.value), 1e-12);
    s.setAttribute("viewBox", `0 0 ${w} ${items.length * row + 4}`);
    items.forEach((it, i) => {
      const y = i * row + 2, bw = Math.max(1, ((w - labelW - 70) * it.value) / max);
      s.append(svg("text", { x: labelW - 6, y: y + 14, "text-anchor": "end", class: "label" }, it.label.slice(0, 22)));
      const r = svg("rect", { x: labelW, y, width: bw, height: row - 6, class: "bar" });
      const shown = unit(it.shown ?? it.value);
      r.append(svg("title", {}, `${it.label}: ${shown}`));
      s.append(r);
      s.append(svg("text", { x: labelW + bw + 4, y: y + 14, class: "value" }, shown));
    });
    return true;
  });
}

/** Lines against an index: series [{name, values, cls, max}] each scaled to its own maximum. */
function lines(name, title, series, xLabel) {
  return figure(name, title, (s) => {
    const n = Math.max(0, ...series.map((x) => x.values.length));
    if (n === 0) { s.setAttribute("viewBox", "0 0 400 20"); return false; }
    const w = 400, h = 180, pad = 30;
    s.setAttribute("viewBox", `0 0 ${w} ${h + 20}`);
    s.append(svg("line", { x1: pad, y1: h - pad, x2: w - 10, y2: h - pad, class: "axis" }));
    s.append(svg("line", { x1: pad, y1: 10, x2: pad, y2: h - pad, class: "axis" }));
    const x = (i) => pad + ((w - pad - 10) * i) / Math.max(1, n - 1);
    series.forEach((ser, k) => {
      const vals = ser.values.map((v) => (v === null || v === undefined ? null : Number(v)));
      const max = ser.max ?? Math.max(...vals.filter((v) => v !== null), 1e-12);
      const y = (v) => h - pad - ((h - pad - 10) * v) / max;
      const pts = vals.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
      if (pts.length) s.append(svg("polyline", { points: pts.join(" "), class: "line " + ser.cls }));
      s.append(svg("text", { x: pad + 4 + k * 170, y: h + 14, class: "legend " + ser.cls }, `${ser.name} (max ${fmt.num(max)})`));
    });
    s.append(svg("text", { x: w - 12, y: h - pad + 14, "text-anchor": "end", class: "label" }, `${xLabel} 1…${n}`));
    return true;
  });
}

function card(title, ...content) {
  return el("section", { class: "card" }, el("h2", { text: title }), ...content);
}

function facts(name, pairs) {
  const dl = el("dl", { class: "facts", "data-table": name, "data-rows": pairs.length });
  for (const [k, v] of pairs) dl.append(el("dt", { text: k }), el("dd", {}, v instanceof Node ? v : String(v ?? "—")));
  dl.dataset.rendered = "true";
  return dl;
}

function userLink(id) {
  return el("a", { href: "#/user/" + encodeURIComponent(id), class: "user" }, id);
}

// ---- metrics: the server's Prometheus text, read as it is

function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** Per route and method: requests, and p50/p90/p99 from the latency histogram (linear within a bucket). */
function routeStats(samples) {
  const routes = new Map();
  const key = (l) => `${l.method} ${l.route}`;
  for (const s of samples) {
    if (s.name === "orbit_http_request_duration_seconds_bucket") {
      const r = routes.get(key(s.labels)) || { route: s.labels.route, method: s.labels.method, buckets: [], count: 0, errors: 0 };
      r.buckets.push([s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), s.value]);
      routes.set(key(s.labels), r);
    }
  }
  for (const s of samples) {
    if (s.name !== "orbit_http_requests_total") continue;
    const r = routes.get(key(s.labels));
    if (!r) continue;
    r.count += s.value;
    if (Number(s.labels.status) >= 500) r.errors += s.value;
  }
  const quantile = (buckets, q) => {
    const b = [...buckets].sort((a, c) => a[0] - c[0]);
    const total = b.length ? b[b.length - 1][1] : 0;
    if (!total) return null;
    const rank = q * total;
    let prevLe = 0, prevCount = 0;
    for (const [le, count] of b) {
      if (count >= rank) {
        // Beyond the last finite bucket the histogram only says "more than": keep that.
        if (le === Infinity) return { over: prevLe };
        return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-12, count - prevCount);
      }
      prevLe = le; prevCount = count;
    }
    return prevLe;
  };
  return [...routes.values()].map((r) => ({ ...r, p50: quantile(r.buckets, 0.5), p90: quantile(r.buckets, 0.9), p99: quantile(r.buckets, 0.99) }))
    .sort((a, b) => b.count - a.count);
}

function metricValue(samples, name) {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

// ---- views

function modelRows(model) {
  return ["followModel", "relationIndex", "ranker", "clickModel"].map((k) => ({ name: k, ...(model[k] || {}), missing: !model[k] }));
}

async function overview(main) {
  const [model, metricsText, curve] = await Promise.all([api("/v1/model"), api("/metrics"), api("/v1/model/training")]);
  const samples = parseMetrics(metricsText);
  const now = performance.now() / 1000;
  const written = metricValue(samples, "orbit_events_written_total");
  const requests = metricValue(samples, "orbit_http_requests_total");
  let ingest = "measuring…", rate = "measuring…";
  if (state.previous) {
    const dt = now - state.previous.at;
    ingest = `${((written - state.previous.written) / dt).toFixed(1)} events/s`;
    rate = `${((requests - state.previous.requests) / dt).toFixed(1)} req/s`;
  }
  state.previous = { at: now, written, requests };
  const snap = model.snapshot, ov = model.overlay, last = model.lastRefresh;
  main.replaceChildren(
    el("div", { class: "grid" },
      card("Store and snapshot", facts("snapshot", [
        ["users", fmt.int(snap.users)], ["follows", fmt.int(snap.follows)], ["posts", fmt.int(snap.posts)],
        ["interactions", fmt.int(snap.interactions)], ["snapshot version", fmt.int(snap.version)],
        ["store version", fmt.int(ov.version)], ["changes since snapshot", fmt.int(ov.changes)],
        ["snapshot age", fmt.age(snap.ageSeconds)], ["built at", snap.builtAt],
      ])),
      card("Traffic", facts("traffic", [
        ["ingest", ingest], ["events written", fmt.int(written)], ["requests", rate], ["requests served", fmt.int(requests)],
        ["refreshing now", model.refreshing ? "yes" : "no"],
        ["last refresh", last ? `${last.finishedAt} (${last.retrained ? "retrained" : "rebuilt"}, ${fmt.num(last.buildSeconds, 2)} s build)` : "none since start"],
        ["model file refused", last && last.refusedModel ? last.refusedModel : "none"],
      ])),
    ),
    card("Models", table("models", [
      { title: "model", value: (m) => m.name }, { title: "kind", value: (m) => (m.missing ? "not loaded" : m.kind) },
      { title: "parameters", value: (m) => fmt.int(m.parameters), numeric: true },
      { title: "trained at", value: (m) => m.trainedAt }, { title: "origin", value: (m) => m.origin },
      { title: "val. HR@10", value: (m) => fmt.num(m.validationHR10), numeric: true },
      { title: "val. NDCG@10", value: (m) => fmt.num(m.validationNDCG10), numeric: true },
      { title: "train s", value: (m) => fmt.num(m.trainSeconds, 1), numeric: true },
    ], modelRows(model))),
    card("Training curve (follow model)",
      lines("training-curve", "Loss and validation HR@10 per epoch", [
        { name: "loss", values: curve.epochs.map((e) => e.loss), cls: "a" },
        { name: "val. HR@10", values: curve.epochs.map((e) => e.validationHR10), cls: "b", max: 1 },
      ], "epoch"),
      el("p", { class: "muted", text: curve.epochs.length ? `${curve.epochs.length} epochs, from ${curve.path}` : `no training yet (${curve.path})` })),
    (() => {
      const stats = routeStats(samples);
      return card("Requests by route (server metrics since start)",
        bars("latency-p99", "p99 latency by route", stats.filter((r) => r.p99 !== null).slice(0, 12)
          .map((r) => ({ label: `${r.method} ${r.route}`, value: typeof r.p99 === "object" ? r.p99.over : r.p99, shown: r.p99 })), fmt.ms),
        table("routes", [
          { title: "route", value: (r) => `${r.method} ${r.route}` }, { title: "requests", value: (r) => fmt.int(r.count), numeric: true },
          { title: "5xx", value: (r) => fmt.int(r.errors), numeric: true },
          { title: "p50", value: (r) => fmt.ms(r.p50), numeric: true }, { title: "p90", value: (r) => fmt.ms(r.p90), numeric: true },
          { title: "p99", value: (r) => fmt.ms(r.p99), numeric: true },
        ], stats));
    })(),
  );
}

/** What the OpenAPI document says of this server: the logics, and whether reads need a token. */
async function documentInfo() {
  if (state.doc) return state.doc;
  const doc = await api("/openapi.json");
  const op = doc.paths["/v1/users/{id}/follow-recommendations"].get;
  state.doc = {
    logics: (op.parameters.find((p) => p.name === "logic") || { schema: { enum: [] } }).schema.enum,
    // Reads take an anonymous request when their security lists an empty requirement.
    readTokenRequired: !(doc.paths["/v1/model"].get.security || []).some((s) => Object.keys(s).length === 0),
  };
  state.logics = state.doc.logics;
  return state.doc;
}

async function userView(main, id, params) {
  const logic = params.get("logic") || "";
  const form = el("form", { class: "lookup", id: "lookup" },
    el("label", { for: "user-id", text: "User id" }), el("input", { id: "user-id", name: "id", value: id || "", autocomplete: "off", required: "" }),
    el("label", { for: "logic", text: "Logic" }),
    (() => {
      const s = el("select", { id: "logic", name: "logic" }, el("option", { value: "", text: "configured default" }));
      for (const l of state.logics || []) s.append(el("option", { value: l, text: l }));
      s.value = logic;
      return s;
    })(),
    el("button", { type: "submit", text: "Show" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("#user-id").value.trim(), l = $("#logic").value;
    if (v) location.hash = "#/user/" + encodeURIComponent(v) + (l ? "?logic=" + encodeURIComponent(l) : "");
  });
  main.replaceChildren(card("Look up a user", form));
  if (!id) return;
  const e = encodeURIComponent(id);
  const q = logic ? "&logic=" + encodeURIComponent(logic) : "";
  let summary;
  try { summary = await api(`/v1/users/${e}`); } catch (err) {
    if (err.status === 404) { main.append(el("p", { class: "error", id: "not-found", text: `No user "${id}" in this store.` })); return; }
    throw err;
  }
  const [recs, feed, similar] = await Promise.all([
    api(`/v1/users/${e}/follow-recommendations?explain=true${q}`).catch((err) => ({ failed: err.message })),
    api(`/v1/users/${e}/feed?explain=true`),
    api(`/v1/users/${e}/similar?k=10&explain=true`),
  ]);
  const recCard = recs.failed
    ? card("Who to follow", el("p", { class: "error", id: "logic-error", text: recs.failed }))
    : card(`Who to follow (${recs.coldStart ? "cold start: leaderboards" : "logic " + (logic || "configured default")})`,
      table("follow-recommendations", [
        { title: "#", value: (r) => r.rank, numeric: true }, { title: "account", value: (r) => userLink(r.user) },
        { title: "source", value: (r) => r.source }, { title: "reason", value: (r) => r.reason },
        { title: "score", value: (r) => fmt.num(r.score), numeric: true },
        { title: "ranker features (top 3)", value: (r) => (r.features || []).slice().sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
          .slice(0, 3).map((f) => `${f.feature} ${f.contribution >= 0 ? "+" : ""}${f.contribution.toFixed(3)}`).join(", ") || "—" },
      ], recs.items.map((r, i) => ({ ...r, rank: i + 1 }))),
      el("div", { class: "charts" },
        bars("sources", "Candidates by source (before the cut to k)", Object.entries(recs.sources || {}).map(([k, v]) => ({ label: k, value: v }))),
        bars("filtered", "Candidates filtered, by reason", Object.entries(recs.filtered || {}).filter(([, v]) => v > 0).map(([k, v]) => ({ label: k, value: v })))));
  main.append(
    el("div", { class: "grid" },
      card(`User ${id}`, facts("user-summary", [
        ["follows", fmt.int(summary.followees)], ["followers (at snapshot)", fmt.int(summary.followersAtSnapshot)],
        ["flags", (summary.flags || []).join(", ") || "none"], ["cold start", summary.coldStart ? "yes" : "no"],
        ["known to the follow model", summary.knownToFollowModel ? "yes" : "no"], ["new since snapshot", summary.newSinceSnapshot ? "yes" : "no"],
      ])),
      card("Engaged authors (signals in priority order)", table("engaged-authors", [
        { title: "author", value: (a) => userLink(a.author) }, { title: "interactions", value: (a) => fmt.int(a.interactions), numeric: true },
        { title: "signals", value: (a) => (a.signals || []).join(", ") }, { title: "last", value: (a) => fmt.time(a.lastAt) },
      ], summary.engagedAuthors || [], "no engagement yet")),
    ),
    recCard,
    card("Feed", table("feed", [
      { title: "#", value: (r) => r.rank, numeric: true }, { title: "type", value: (r) => r.type },
      { title: "item", value: (r) => (r.type === "post" ? r.post.post : userLink(r.user.user)) },
      { title: "author", value: (r) => (r.type === "post" ? userLink(r.post.author) : "—") },
      { title: "source", value: (r) => (r.post || r.user).source }, { title: "reason", value: (r) => (r.post || r.user).reason },
      { title: "score", value: (r) => fmt.num((r.post || r.user).score), numeric: true },
    ], feed.items.map((r, i) => ({ ...r, rank: i + 1 })), "nothing to read yet")),
    card("Similar accounts", table("similar", [
      { title: "account", value: (r) => userLink(r.user) }, { title: "shared followers", value: (r) => fmt.int(r.sharedFollowers), numeric: true },
      { title: "follower cosine", value: (r) => fmt.num(r.followerCosine), numeric: true },
      { title: "embedding cosine", value: (r) => fmt.num(r.embeddingCosine), numeric: true }, { title: "reason", value: (r) => r.reason },
    ], similar.items, "no followers to compare")),
  );
}

async function leaderboards(main) {
  const b = await api("/v1/leaderboards?k=20");
  main.replaceChildren(
    el("div", { class: "grid" },
      card("Most followed",
        bars("most-followed", "Followers", b.mostFollowed.slice(0, 10).map((r) => ({ label: r.user, value: r.followers }))),
        table("most-followed", [{ title: "account", value: (r) => userLink(r.user) }, { title: "followers", value: (r) => fmt.int(r.followers), numeric: true }], b.mostFollowed)),
      card(`Recently followed (last ${b.recentDays} days)`,
        bars("recently-followed", "New followers", b.recentlyFollowed.slice(0, 10).map((r) => ({ label: r.user, value: r.newFollowers }))),
        table("recently-followed", [{ title: "account", value: (r) => userLink(r.user) }, { title: "new followers", value: (r) => fmt.int(r.newFollowers), numeric: true }], b.recentlyFollowed)),
      card("Hot authors",
        bars("hot-authors", "Score", b.hotAuthors.slice(0, 10).map((r) => ({ label: r.user, value: r.score })), (v) => fmt.num(v, 2)),
        table("hot-authors", [{ title: "author", value: (r) => userLink(r.user) }, { title: "hot posts", value: (r) => fmt.int(r.hotPosts), numeric: true },
          { title: "score", value: (r) => fmt.num(r.score, 2), numeric: true }], b.hotAuthors)),
      card("Hot posts",
        table("hot-posts", [{ title: "post", value: (r) => r.post }, { title: "author", value: (r) => userLink(r.author) },
          { title: "score", value: (r) => fmt.num(r.score, 2), numeric: true }], b.hotPosts)),
    ));
}

function tokenForm(main, message) {
  const f = el("form", { id: "token-form", class: "lookup" },
    el("label", { for: "token", text: "Read token" }), el("input", { id: "token", type: "password", autocomplete: "off" }),
    el("button", { type: "submit", text: "Use" }));
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("#token").value;
    sessionStorage.setItem("orbit.readToken", state.token);
    route();
  });
  main.replaceChildren(card("This server needs a read token", el("p", { text: message }), f));
}

async function route() {
  clearTimeout(state.timer);
  const main = $("#main");
  const [path, query] = (location.hash.slice(1) || "/overview").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const view = parts[0] || "overview";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
  document.body.dataset.view = view;
  document.body.dataset.ready = "false";
  try {
    // Ask for the token before calling a read that would only be refused.
    if ((await documentInfo()).readTokenRequired && !state.token) throw new NeedsToken();
    if (view === "user") {
      await userView(main, parts[1] ? decodeURIComponent(parts[1]) : "", params);
    } else if (view === "leaderboards") {
      await leaderboards(main);
    } else {
      await overview(main);
      state.timer = setTimeout(() => { if (document.body.dataset.view === "overview") route(); }, 5000);
    }
  } catch (err) {
    if (err instanceof NeedsToken) {
      tokenForm(main, state.token ? "That token was refused; try another." : "Reads on this server need ORBIT_READ_TOKENS' token.");
    } else {
      main.append(el("p", { class: "error", text: "Could not load this view: " + err.message }));
    }
  }
  document.body.dataset.ready = "true";
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
"""#
}
