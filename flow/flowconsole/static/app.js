// The operator console of ratioflow. It reads the admin API (its base is
// the body's data-api) and draws the diagrams it answers with Mermaid.
// Every route is a hash: #/flows?filters, #/flows/ID, #/stats?filters.
"use strict";

const API = document.body.dataset.api;
const state = {
  doc: null,        // the admin API's OpenAPI document
  token: sessionStorage.getItem("ratioflow-admin-token") || "",
  diagrams: 0,      // a counter for Mermaid's element ids
  message: null,    // {kind, text}: shown once, on the next flow page
};

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

// api calls the admin API; a 401 asks for the token.
async function api(method, path) {
  const headers = {};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let res;
  try {
    res = await fetch(API + path, { method, headers, credentials: "same-origin" });
  } catch (e) {
    return { ok: false, status: 0, data: { title: "Network error", detail: String(e) } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401) {
    document.getElementById("auth").hidden = false;
    if (state.token) {
      state.token = "";
      sessionStorage.removeItem("ratioflow-admin-token");
    }
  }
  return { ok: res.ok, status: res.status, data };
}

function problemText(r) {
  const p = r.data || {};
  return (p.detail || p.title || "HTTP " + r.status) + (p.code ? " (" + p.code + ")" : "");
}

function pad(n) { return String(n).padStart(2, "0"); }

// when writes a time in the browser's zone: 2026-11-21 09:30:44.
function when(iso, timeOnly) {
  if (!iso) return "";
  const d = new Date(iso);
  const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  return timeOnly ? t : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
}

function ago(iso) {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.round(s / 60) + "m ago";
  if (s < 86400) return Math.round(s / 3600) + "h ago";
  return Math.round(s / 86400) + "d ago";
}

const failedEnds = new Set(["Failed", "Expired", "Canceled"]);

function badge(s, terminal, big) {
  const cls = "badge" + (terminal ? (failedEnds.has(s) ? " ended-bad" : " ended-ok") : "") + (big ? " big" : "");
  return el("span", { class: cls, "data-state": s }, s);
}

function enumOf(name) {
  const s = state.doc && state.doc.components.schemas[name];
  return (s && s.enum) || [];
}

function select(name, label, options, value) {
  const s = el("select", { name }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
  return el("label", {}, label, s);
}

function params(query) { return new URLSearchParams(query || ""); }

// ---- the list of flows

const ages = [["", "any age"], ["newerThan=10m", "created in the last 10 minutes"], ["newerThan=1h", "in the last hour"],
  ["newerThan=24h", "in the last day"], ["newerThan=168h", "in the last week"],
  ["olderThan=1h", "created over an hour ago"], ["olderThan=24h", "over a day ago"]];

async function showList(query) {
  const q = params(query);
  const age = q.has("newerThan") ? "newerThan=" + q.get("newerThan") : q.has("olderThan") ? "olderThan=" + q.get("olderThan") : "";
  const form = el("form", { class: "filters", id: "filters" },
    select("kind", "kind", [["", "any kind"], ...enumOf("Kind").map((k) => [k, k])], q.get("kind") || ""),
    select("state", "state", [["", "any state"], ...enumOf("State").map((k) => [k, k])], q.get("state") || ""),
    select("running", "running", [["", "running or ended"], ["true", "running only"]], q.get("running") || ""),
    select("age", "age", ages, age),
    select("order", "order", [["", "newest first"], ["oldest", "oldest first"]], q.get("order") || ""),
    el("label", {}, "subject", el("input", { type: "text", name: "subject", value: q.get("subject") || "", size: 20 })),
    el("button", { type: "submit" }, "Filter"),
    el("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/flows"; } }, "Clear"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const out = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (!v) continue;
      if (k === "age") { const [ak, av] = v.split("="); out.set(ak, av); } else out.set(k, v.trim());
    }
    location.hash = "#/flows" + (out.toString() ? "?" + out : "");
  });
  const main = document.getElementById("main");
  main.replaceChildren(el("section", { class: "card" }, el("h2", {}, "Flows"), form), el("section", { class: "card", id: "list" }, "Loading…"));
  const r = await api("GET", "v1/flows?" + q.toString());
  const list = document.getElementById("list");
  if (!list) return;
  if (!r.ok) { list.replaceChildren(el("div", { class: "error" }, problemText(r))); return; }
  const rows = r.data.flows.map((f) => el("tr", { "data-id": f.id },
    el("td", {}, el("a", { href: "#/flows/" + f.id, class: "mono" }, f.id)),
    el("td", {}, f.kind),
    el("td", {}, badge(f.state, f.terminal), f.pending ? el("span", { class: "meta" }, " " + f.pending.call + " pending") : null),
    el("td", { class: "mono" }, f.subject),
    el("td", {}, when(f.createdAt)),
    el("td", {}, ago(f.updatedAt))));
  const next = r.data.nextPageToken;
  list.replaceChildren(...[
    el("p", { class: "meta", id: "count" }, rows.length + (rows.length === 1 ? " flow" : " flows") + " on this page, " + (q.get("order") === "oldest" ? "oldest" : "newest") + " first" + (next ? "" : ".")),
    rows.length ? el("table", { id: "flows" },
      el("thead", {}, el("tr", {}, ["flow", "kind", "state", "subject", "created", "last step"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)) : el("p", {}, "No flow matches."),
    next ? el("p", {}, el("button", { class: "secondary", onclick: () => { q.set("pageToken", next); location.hash = "#/flows?" + q; } }, "Next page")) : null,
  ].filter(Boolean));
}

// ---- one flow

function fact(name, value) {
  if (value === undefined || value === null || value === "") return [];
  return [el("dt", {}, name), el("dd", { "data-fact": name }, value)];
}

function lastStep(l) {
  if (!l) return "";
  return l.event + ": " + l.outcome + (l.status ? " (" + l.status + (l.code ? " " + l.code : "") + ")" : "") + (l.message ? ": " + l.message : "");
}

async function showFlow(id) {
  const main = document.getElementById("main");
  main.replaceChildren(el("section", { class: "card" }, "Loading…"));
  const r = await api("GET", "v1/flows/" + encodeURIComponent(id));
  if (!r.ok) { main.replaceChildren(el("section", { class: "card" }, el("div", { class: "error" }, problemText(r)))); return; }
  renderFlow(r.data);
}

function renderFlow(f) {
  const rec = f.record, v = f.view;
  const facts = el("dl", { class: "facts" },
    fact("kind", rec.kind), fact("subject", rec.subject),
    fact("created", when(rec.createdAt)), fact(rec.terminal ? "ended" : "expires", when(rec.terminal ? rec.endedAt : rec.expiresAt)),
    fact("last write", when(rec.updatedAt)), fact("version", String(rec.version)),
    fact("graph", rec.graphVersion),
    fact("pending", rec.pending ? rec.pending.call + " (" + rec.pending.event + ") since " + when(rec.pending.startedAt) : ""),
    v ? [fact("wallet", v.walletAddress), fact("phone", v.phoneMask ? "ending in " + v.phoneMask : ""), fact("email", v.emailMask),
      fact("attempts left", v.attemptsLeft === undefined ? "" : String(v.attemptsLeft)),
      fact("retry at", when(v.retryAt)), fact("last step", lastStep(v.last)),
      fact("user", v.user ? [v.user.id, v.user.firstName, v.user.lastName].filter(Boolean).join(" ") : ""),
      fact("next", v.next.map((n) => n.event + (n.auto ? " (auto)" : "")).join(", ")),
      fact("next flow", v.nextFlow)] : []);
  const msg = state.message;
  state.message = null;
  const confirmBox = el("span", { id: "confirm-cancel", hidden: true }, "Cancel this flow for good? ",
    el("button", { class: "danger", onclick: () => act(rec.id, "cancel") }, "Yes, cancel it"),
    el("button", { class: "secondary", onclick: () => { confirmBox.hidden = true; } }, "No"));
  const head = el("section", { class: "card" },
    el("p", {}, el("a", { href: "#/flows" }, "← flows")),
    el("h2", {}, f.title || rec.kind),
    el("div", {}, el("span", { id: "state", "data-state": rec.state }, badge(rec.state, rec.terminal, true)), " ",
      el("span", { class: "mono" }, rec.id)),
    facts,
    v && v.message ? el("div", { class: "ok", id: "message" }, v.message) : null,
    f.viewNote ? el("div", { class: "note", id: "view-note" }, f.viewNote) : null,
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => act(rec.id, "resume"), disabled: rec.terminal,
        title: "Settle a pending Ratio call, expire the flow if due, run its automatic steps" }, "Resume"),
      el("button", { type: "button", class: "danger", disabled: rec.terminal, onclick: () => { confirmBox.hidden = false; } }, "Cancel flow…"),
      confirmBox),
    msg ? el("div", { class: msg.kind, id: "action-result" }, msg.text) : null);
  const rows = f.timeline.map((s) => el("tr", { class: s.status >= 400 || !["ok", "new_user"].includes(s.outcome) ? "bad" : "", "data-seq": s.seq },
    el("td", { class: "num" }, String(s.seq)), el("td", {}, when(s.at, true)), el("td", {}, s.event),
    el("td", {}, s.from === s.to ? s.from + " (stayed)" : s.from + " → " + s.to), el("td", {}, s.outcome),
    el("td", { class: "mono" }, s.call || ""), el("td", {}, s.status ? s.status + " " + (s.code || "") : (s.call ? "200" : "")),
    el("td", { class: "num" }, s.durationMs !== undefined ? fmtMs(s.durationMs) : "")));
  const timeline = el("section", { class: "card" }, el("h2", {}, "Timeline"),
    rows.length ? el("table", { id: "timeline" },
      el("thead", {}, el("tr", {}, ["#", "time", "event", "from → to", "outcome", "Ratio call", "status", "duration"].map((h, i) =>
        el("th", { class: i === 0 || i === 7 ? "num" : "" }, h)))),
      el("tbody", {}, rows)) : el("p", {}, "No step yet."));
  const parts = [head, timeline];
  if (f.diagrams) parts.push(diagramTabs([
    ["overview", "Path taken", f.diagrams.overview, "The flow's overview; the states it went through and the arrows it took are blue, its current state dark blue."],
    ["state", "Every edge", f.diagrams.state, "Every edge the engine can take, with the path taken highlighted."],
    ["sequence", "Sequence", f.diagrams.sequence, "The flow's steps as the messages between the user, the wallet app and Ratio."]]));
  document.getElementById("main").replaceChildren(...parts);
}

function fmtMs(ms) { return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms >= 10 ? Math.round(ms) + " ms" : ms.toFixed(1) + " ms"; }

async function act(id, what) {
  const r = await api("POST", "v1/flows/" + encodeURIComponent(id) + "/" + what);
  if (r.ok) {
    state.message = { kind: "ok", text: (what === "cancel" ? "Canceled" : "Resumed") + ": the flow is now in " + r.data.record.state + "." };
    renderFlow(r.data);
    return;
  }
  state.message = { kind: "error", text: (what === "cancel" ? "Cancel" : "Resume") + " failed: " + problemText(r) };
  await showFlow(id);
}

// ---- diagrams

function diagramTabs(list) {
  const box = el("div", { class: "diagram", id: "diagram" });
  const about = el("p", { class: "legend", id: "diagram-about" });
  const buttons = list.map(([name, label, source, text]) => el("button", { type: "button", "data-tab": name, onclick: () => show(name) }, label));
  function show(name) {
    const [, , source, text] = list.find((d) => d[0] === name);
    for (const b of buttons) b.classList.toggle("on", b.dataset.tab === name);
    about.textContent = text;
    box.dataset.diagram = name;
    box.classList.toggle("wide", name === "state");
    draw(box, source);
  }
  const card = el("section", { class: "card" }, el("h2", {}, "Diagrams"), el("div", { class: "tabs" }, buttons), about, box);
  queueMicrotask(() => show(list[0][0]));
  return card;
}

// draw renders Mermaid source into box, replacing what it held.
async function draw(box, source) {
  if (!window.mermaid) {
    box.replaceChildren(el("div", { class: "error" }, "The mermaid script did not load: the diagrams cannot be drawn (see serve --mermaid-js)."));
    return;
  }
  const n = ++state.diagrams;
  box.dataset.rendered = "";
  box.dataset.n = String(n);
  try {
    const { svg } = await window.mermaid.render("mermaid-" + n, source);
    if (box.dataset.n !== String(n)) return; // another tab was chosen meanwhile
    box.innerHTML = svg;
    box.dataset.rendered = "true";
  } catch (e) {
    box.replaceChildren(el("div", { class: "error" }, "Mermaid could not draw this diagram: " + e), el("pre", {}, source));
  }
}

// ---- stats

async function showStats(query) {
  const q = params(query);
  const form = el("form", { class: "filters", id: "stats-filters" },
    select("kind", "kind", [["", "every kind"], ...enumOf("Kind").map((k) => [k, k])], q.get("kind") || ""),
    select("since", "created", [["", "any time"], ["1h", "in the last hour"], ["24h", "in the last day"], ["168h", "in the last week"]], q.get("since") || ""),
    select("view", "diagram", [["overview", "overview"], ["state", "every edge"]], q.get("view") || "overview"),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const out = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) out.set(k, v);
    location.hash = "#/stats" + (out.toString() ? "?" + out : "");
  });
  const main = document.getElementById("main");
  main.replaceChildren(el("section", { class: "card" }, el("h2", {}, "Stats"), form,
    el("p", { class: "meta" }, "The traffic of every edge, from the flows' audit histories: how flows end, the errors they hit, and where they stop (drop-off).")),
  el("div", { id: "stats" }, "Loading…"));
  const r = await api("GET", "v1/stats?" + q.toString());
  const out = document.getElementById("stats");
  if (!out) return;
  if (!r.ok) { out.replaceChildren(el("div", { class: "card error" }, problemText(r))); return; }
  if (!r.data.kinds.length) { out.replaceChildren(el("section", { class: "card" }, "No flows.")); return; }
  out.replaceChildren(...r.data.kinds.map((k) => kindStats(k, r.data.stateTTL)));
}

function pct(share) { return (100 * share).toFixed(1) + "%"; }

function kindStats(k, ttl) {
  const ends = el("table", { class: "ends" },
    el("thead", {}, el("tr", {}, el("th", {}, "ended"), el("th", { class: "num" }, "flows"), el("th", { class: "num" }, "share"))),
    el("tbody", {}, k.ends.map((c) => el("tr", { class: c.flows ? "" : "zero" }, el("td", {}, c.ending),
      el("td", { class: "num" }, String(c.flows)), el("td", { class: "num" }, pct(c.share))))));
  const drops = el("table", { class: "dropoff", "data-kind": k.kind },
    el("thead", {}, el("tr", {}, ["state", "stays", "median", "expired", "canceled", "failed", "abandoned", "running"].map((h, i) =>
      el("th", { class: i ? "num" : "" }, h)))),
    el("tbody", {}, k.states.filter((s) => !isTerminal(k, s.state)).map((s) => {
      const stopped = s.expired + s.canceled + s.failed + s.abandoned;
      return el("tr", { class: stopped ? "bad" : s.stays || s.running ? "" : "zero", "data-state": s.state },
        el("td", {}, s.state), el("td", { class: "num" }, String(s.stays)),
        el("td", { class: "num" }, s.stays ? fmtMs(s.medianNanoseconds / 1e6) : "–"),
        ...[s.expired, s.canceled, s.failed, s.abandoned, s.running].map((n) => el("td", { class: "num" }, String(n))));
    })));
  const errors = k.edges.filter((e) => e.times && !["ok", "new_user"].includes(e.outcome));
  const box = el("div", { class: "diagram wide", "data-diagram": "stats-" + k.kind });
  const card = el("section", { class: "card kind-stats", "data-kind": k.kind },
    el("h2", {}, k.kind + ": " + k.flows + (k.flows === 1 ? " flow, " : " flows, ") + k.finished + " finished (" + pct(k.flows ? k.finished / k.flows : 0) + ")"),
    el("div", { class: "split" },
      el("div", {}, el("h3", {}, "How they ended"), ends,
        el("p", { class: "meta" }, "running: a step in the last " + ttl + "; abandoned: no step for longer.")),
      el("div", {}, el("h3", {}, "Errors the flows hit"), errors.length ? el("table", {},
        el("thead", {}, el("tr", {}, ["in", "event", "error", "flows", "finished"].map((h, i) => el("th", { class: i > 2 ? "num" : "" }, h)))),
        el("tbody", {}, errors.map((e) => el("tr", {}, el("td", {}, e.from), el("td", {}, e.event), el("td", {}, e.label || e.outcome),
          el("td", { class: "num" }, String(e.flows)), el("td", { class: "num" }, String(e.finished)))))) : el("p", {}, "None."))),
    el("h3", {}, "Drop-off per state"), drops,
    el("h3", {}, "Edge traffic"),
    el("p", { class: "legend" }, "Each arrow taken says how many steps took it; the busiest are heaviest, errors in red. Each state says how many stays ended in it, their median time, and how many flows stopped there."),
    box);
  if (k.diagram) queueMicrotask(() => draw(box, k.diagram));
  return card;
}

function isTerminal(k, s) { return k.ends.some((c) => c.ending === s); }

// ---- routing

async function route() {
  const hash = location.hash || "#/flows";
  const [path, query] = hash.slice(1).split("?");
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("on", hash.startsWith(a.getAttribute("href")));
  if (!state.doc) {
    const r = await api("GET", "openapi.json");
    if (!r.ok) {
      document.getElementById("main").replaceChildren(el("section", { class: "card" }, el("div", { class: "error" }, problemText(r))));
      return;
    }
    state.doc = r.data;
  }
  const m = path.match(/^\/flows\/([^/]+)$/);
  if (m) return showFlow(decodeURIComponent(m[1]));
  if (path === "/stats") return showStats(query);
  return showList(query);
}

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = ev.target.elements.token;
  state.token = input.value.trim();
  input.value = "";
  sessionStorage.setItem("ratioflow-admin-token", state.token);
  document.getElementById("auth").hidden = true;
  route();
});

if (window.mermaid) window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
window.addEventListener("hashchange", route);
route();
