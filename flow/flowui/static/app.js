// The reference frontend of ratioflow's flow API. It knows no flow: the
// kinds and their start fields come from GET /openapi.json, the steps from
// each view's next list, and each input from its field's schema.
"use strict";

const state = {
  doc: null,      // the OpenAPI document
  kinds: {},      // kind -> {description, fields: [[name, schema]], required: Set}
  fields: {},     // field name -> schema, from every request body
  dev: null,      // the development session, when serve runs a sandbox
  flow: null,     // the current view
  problem: null,  // the last problem, with .event set to what caused it
  waits: {},      // event -> time (ms) before which it is held back
  sentTo: [],     // phone numbers and emails this page submitted
  codes: {},      // destination -> the last code the sandbox sent there
};

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    return { ok: false, status: 0, data: { title: "Network error", detail: String(e) } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { ok: res.ok, status: res.status, data, retryAfter: Number(res.headers.get("Retry-After")) || 0 };
}

function refName(s) { return s && s.$ref ? s.$ref.split("/").pop() : ""; }

function resolve(s) {
  while (s && s.$ref) s = state.doc.components.schemas[refName(s)];
  return s || {};
}

// readDocument finds the kinds, their start fields and every event field.
function readDocument(doc) {
  state.doc = doc;
  const start = doc.paths["/v1/flows"].post.requestBody.content["application/json"].schema;
  for (const [kind, ref] of Object.entries(resolve(start).discriminator.mapping)) {
    const s = resolve({ $ref: ref });
    // The document's properties come sorted by name; its required list
    // keeps the declared order, so the form follows it, optional fields last.
    const order = (n) => { const i = (s.required || []).indexOf(n); return i < 0 ? Infinity : i; };
    const fields = Object.entries(s.properties || {}).filter(([n]) => n !== "kind")
      .sort(([a], [b]) => order(a) - order(b));
    state.kinds[kind] = { description: s.description || kind, fields, required: new Set(s.required || []) };
    for (const [n, f] of fields) state.fields[n] = f;
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith("/v1/flows/{id}/events/") || !item.post || !item.post.requestBody) continue;
    const s = resolve(item.post.requestBody.content["application/json"].schema);
    for (const [n, f] of Object.entries(s.properties || {})) state.fields[n] = f;
  }
}

// fieldInput is one labelled input for a field, from its schema.
function fieldInput(name, schema, required, value) {
  const s = resolve(schema);
  let input;
  if (s.type === "boolean") {
    input = el("input", { type: "checkbox", name, "data-type": "boolean" });
  } else if (s.enum) {
    input = el("select", { name }, el("option", { value: "" }, "choose"),
      s.enum.map((v) => el("option", { value: v, selected: v === value }, String(v))));
  } else {
    input = el("input", {
      type: s.format === "email" ? "email" : "text", name, value: value || "",
      placeholder: s.example, maxlength: s.maxLength, autocomplete: "off",
      "data-type": s.type, "data-format": refName(schema),
    });
  }
  const label = el("label", {}, el("b", {}, name), required ? "" : " (optional)", " ", input,
    el("span", { class: "hint" }, s.description || ""));
  return { label, input, format: refName(schema) };
}

// formValues reads a form's inputs as the API's JSON fields.
function formValues(form) {
  const body = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.dataset.type === "boolean") { if (input.checked) body[input.name] = true; continue; }
    if (input.value === "") continue;
    body[input.name] = input.dataset.type === "integer" ? Number(input.value) : input.value;
    if (input.dataset.format === "PhoneNumber" || input.dataset.format === "EmailAddress") remember(input.value);
  }
  return body;
}

function remember(to) {
  state.sentTo = [to, ...state.sentTo.filter((t) => t !== to)].slice(0, 6);
}

// helpers are the buttons a field's format offers: a wallet to fill an
// address, a signer for a signature, the sandbox's codes for a code.
function helpers(format, input, form) {
  const out = [];
  const fill = (v, submit) => { input.value = v; if (submit) form.requestSubmit(); };
  if (format === "WalletAddress") {
    if (window.ethereum) out.push(el("button", { type: "button", class: "secondary", onclick: async () => fill(await injectedAccount()) }, "Use my wallet"));
    if (state.dev) out.push(el("button", { type: "button", class: "secondary", onclick: () => fill(state.dev.walletAddress) }, "Use the dev wallet"));
  }
  if (format === "Signature" && state.flow && state.flow.challenge) {
    const challenge = state.flow.challenge;
    if (window.ethereum) out.push(el("button", { type: "button", onclick: () => signInjected(challenge).then((s) => fill(s, true), showFailure) }, "Sign with my wallet"));
    if (state.dev) out.push(el("button", { type: "button", onclick: () => signDev(challenge).then((s) => fill(s, true), showFailure) }, "Sign with the dev wallet"));
  }
  if (format === "Otp" && state.dev) {
    for (const to of state.sentTo) {
      if (state.codes[to]) out.push(el("button", { type: "button", class: "secondary", "data-to": to, onclick: () => fill(state.codes[to]) }, "Use the code sent to " + to));
    }
  }
  return out.length ? el("div", { class: "helpers" }, out) : null;
}

async function injectedAccount() {
  const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
  return accounts[0];
}

async function signInjected(challenge) {
  const account = state.flow.walletAddress || await injectedAccount();
  const hex = "0x" + Array.from(new TextEncoder().encode(challenge), (b) => b.toString(16).padStart(2, "0")).join("");
  return window.ethereum.request({ method: "personal_sign", params: [hex, account] });
}

async function signDev(challenge) {
  const r = await api("POST", "dev/sign", { message: challenge });
  if (!r.ok) throw new Error((r.data && r.data.error) || "the dev wallet did not sign");
  return r.data.signature;
}

function showFailure(err) {
  state.problem = { title: "The wallet did not sign", detail: String(err && err.message || err) };
  render();
}

// markField shows a problem beside the input it names, or says it can't.
function markField(form, problem) {
  const input = problem.field && form.querySelector(`[name="${CSS.escape(problem.field)}"]`);
  if (!input) return false;
  input.classList.add("bad");
  const left = problem.attemptsLeft !== undefined ? ` (${problem.attemptsLeft} attempts left)` : "";
  input.closest("label").append(el("div", { class: "fielderror", "data-code": problem.code }, problem.detail + left));
  return true;
}

function problemBox(p) {
  const left = p.attemptsLeft !== undefined ? ` ${p.attemptsLeft} attempts left.` : "";
  return el("div", { class: "error", "data-code": p.code || "" },
    el("b", {}, p.title || "Error"), p.code ? ` (${p.code})` : "", ": ", p.detail || "", left,
    p.field ? el("span", {}, " Field: ", el("code", {}, p.field)) : "");
}

// renderStart draws the start form of the chosen kind.
function renderStart(kind, values) {
  const box = document.getElementById("start");
  const kinds = Object.keys(state.kinds);
  kind = kind || kinds[0];
  const select = el("select", { name: "kind", onchange: (e) => renderStart(e.target.value) },
    kinds.map((k) => el("option", { value: k, selected: k === kind }, `${k}: ${state.kinds[k].description}`)));
  const form = el("form", { class: "event", id: "start-form", novalidate: true });
  form.append(el("label", {}, el("b", {}, "kind"), " ", select));
  for (const [name, schema] of state.kinds[kind].fields) {
    const f = fieldInput(name, schema, state.kinds[kind].required.has(name), (values || {})[name]);
    form.append(f.label);
    const h = helpers(f.format, f.input, form);
    if (h) f.label.append(h);
  }
  form.append(el("button", { type: "submit" }, "Start"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await api("POST", "/v1/flows", { kind, ...formValues(form) });
    if (r.ok) { state.flow = r.data; state.problem = null; state.waits = {}; await refreshCodes(); render(); return; }
    renderStart(kind, formValues(form));
    const p = r.data || { title: "HTTP " + r.status };
    const f = document.getElementById("start-form");
    if (!markField(f, p)) f.prepend(problemBox(p));
  });
  box.replaceChildren(el("h2", {}, "Start a flow"), form);
}

// fire sends one event of the current flow.
async function fire(event, form) {
  const body = form ? formValues(form) : {};
  const r = await api("POST", `/v1/flows/${encodeURIComponent(state.flow.id)}/events/${encodeURIComponent(event)}`, body);
  await settle(r, event);
}

async function settle(r, event) {
  if (r.ok) {
    state.flow = r.data;
    state.problem = null;
  } else {
    const p = r.data || { title: "HTTP " + r.status };
    p.event = event;
    state.problem = p;
    if (p.flow) state.flow = p.flow;
    if (r.status === 429) state.waits[event] = Date.now() + 1000 * (p.retryAfter || r.retryAfter || 1);
  }
  await refreshCodes(); // before the code buttons are drawn
  render();
}

function until(ms) { return Math.max(0, Math.ceil((ms - Date.now()) / 1000)); }

// render draws the current flow from its view.
function render() {
  const v = state.flow;
  const box = document.getElementById("flow");
  if (!v) { box.hidden = true; return; }
  box.hidden = false;
  const facts = el("div", { class: "facts" });
  const fact = (name, value) => value !== undefined && value !== null && value !== "" &&
    facts.append(el("div", { "data-fact": name }, el("span", { class: "meta" }, name + ": "), String(value)));
  fact("wallet", v.walletAddress);
  fact("SMS code sent to", v.phoneMask);
  fact("email code sent to", v.emailMask);
  fact("attempts left", v.attemptsLeft);
  if (v.user) fact("user", [v.user.firstName, v.user.lastName].filter(Boolean).join(" ") || v.user.id);
  if (v.wallets) fact("wallets", v.wallets.join(", "));
  if (v.last) fact("last step", `${v.last.event}: ${v.last.outcome}` + (v.last.status ? ` (Ratio ${v.last.status}${v.last.code ? " " + v.last.code : ""})` : "") + (v.last.message ? `: ${v.last.message}` : ""));
  const parts = [
    el("h2", {}, `${v.kind} flow`),
    el("div", { class: "state", id: "state", "data-state": v.state }, v.state),
    el("div", { class: "meta" }, `id ${v.id} · version ${v.version} · `,
      v.terminal ? "ended" : el("span", { "data-until": Date.parse(v.expiresAt), "data-label": "expires in " }, "")),
    facts,
  ];
  const p = state.problem;
  const wait = p && state.waits[p.event] > Date.now();
  if (!wait && !v.terminal && v.retryAt && Date.parse(v.retryAt) > Date.now()) {
    parts.push(el("div", { class: "wait", id: "retry-at" }, "Ratio holds the next send back: try again in ",
      el("span", { "data-until": Date.parse(v.retryAt) }, ""), "."));
  }
  if (v.challenge && !v.terminal) parts.push(el("div", { class: "meta" }, "challenge to sign:"), el("div", { class: "challenge" }, v.challenge));
  if (p && p.code === "expired") parts.push(el("div", { class: "end failed" }, "This flow passed its deadline: start again."));
  if (v.terminal) {
    const ok = !["Failed", "Expired", "Canceled"].includes(v.state);
    parts.push(el("div", { class: ok ? "end" : "end failed", id: "end" }, el("b", {}, v.state), v.message ? ": " + v.message : ""));
    if (v.nextFlow) parts.push(el("button", { id: "next-flow", onclick: () => startNext(v) }, `Start a ${v.nextFlow} flow`));
  }
  const forms = [];
  let placed = false;
  for (const n of v.terminal ? [] : v.next) {
    const form = eventForm(n);
    if (p && p.event === n.event && markField(form, p)) placed = true;
    forms.push(form);
  }
  // A 429 is a wait, not a failure: it shows as one while it lasts.
  if (p && !placed && p.code !== "expired" && !wait) parts.push(problemBox(p));
  if (wait) parts.push(el("div", { class: "wait", id: "wait", "data-code": p.code }, `${p.event} has to wait: try again in `,
    el("span", { "data-until": state.waits[p.event] }, ""), ".", el("div", { class: "meta" }, p.detail || "")));
  parts.push(...forms, el("p", {}, el("button", { type: "button", class: "secondary", onclick: reload }, "Reload the flow")));
  box.replaceChildren(...parts);
  tick();
}

// eventForm is the form of one permitted event: its fields and a button.
function eventForm(n) {
  const form = el("form", { class: "event", "data-event": n.event, novalidate: true });
  form.append(el("b", {}, n.event), n.auto ? el("span", { class: "meta" }, " (fires by itself; send it again if it failed)") : "");
  for (const name of n.fields || []) {
    const f = fieldInput(name, state.fields[name] || { type: "string" }, true);
    form.append(f.label);
    const h = helpers(f.format, f.input, form);
    if (h) f.label.append(h);
  }
  const button = el("button", { type: "submit", class: n.event === "cancel" ? "secondary" : "", "data-wait": n.event }, n.event);
  form.append(el("div", {}, button));
  form.addEventListener("submit", (e) => { e.preventDefault(); fire(n.event, form); });
  return form;
}

function startNext(v) {
  state.flow = null; state.problem = null; render();
  renderStart(v.nextFlow, { walletAddress: v.walletAddress });
}

async function reload() {
  const r = await api("GET", `/v1/flows/${encodeURIComponent(state.flow.id)}`);
  settle(r, "reload");
}

// tick updates the countdowns and holds back the events that must wait.
function tick() {
  for (const s of document.querySelectorAll("[data-until]")) {
    const left = until(Number(s.dataset.until));
    s.textContent = (s.dataset.label || "") + (left >= 120 ? Math.ceil(left / 60) + " min" : left + " s");
  }
  for (const b of document.querySelectorAll("button[data-wait]")) {
    const left = until(state.waits[b.dataset.wait] || 0);
    b.disabled = left > 0;
    b.textContent = left > 0 ? `${b.dataset.wait} (wait ${left} s)` : b.dataset.wait;
  }
  const w = document.getElementById("wait");
  if (w && state.problem && until(state.waits[state.problem.event] || 0) === 0) w.remove();
}

// The development panel: only when serve runs its own sandbox.
function renderDev() {
  const box = document.getElementById("dev");
  if (!state.dev) { box.hidden = true; return; }
  box.hidden = false;
  const seed = el("form", { id: "seed-form" },
    el("label", {}, "phone ", el("input", { type: "text", name: "phoneNumber", value: "+12025550123" })),
    el("label", {}, "email ", el("input", { type: "email", name: "emailAddress", value: "ada@example.com" })),
    el("button", { type: "submit" }, "Seed a returning user"), el("span", { id: "seed-result" }));
  seed.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await api("POST", "dev/users", formValues(seed));
    document.getElementById("seed-result").textContent = r.ok ? ` seeded ${r.data.firstName} ${r.data.lastName} (${r.data.phone})` : ` ${r.data.error}`;
  });
  const limit = el("form", { id: "ratelimit-form" },
    el("label", {}, "operation ", el("select", { name: "op" }, state.dev.ops.map((o) => el("option", { value: o, selected: o === "otp/sms:send" }, o)))),
    el("label", {}, "seconds ", el("input", { type: "text", name: "retryAfterSeconds", value: "3", size: 3, "data-type": "integer" })),
    el("button", { type: "submit", class: "secondary" }, "Answer the next call 429"), el("span", { id: "ratelimit-result" }));
  limit.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await api("POST", "dev/ratelimit", { count: 1, ...formValues(limit) });
    document.getElementById("ratelimit-result").textContent = r.ok ? " armed" : ` ${r.data.error}`;
  });
  box.replaceChildren(
    el("h2", {}, "Development only: a sandbox, no real user"),
    el("div", {}, "You are ", el("code", { id: "dev-subject" }, state.dev.subject), " (a cookie of this browser), with the dev wallet ",
      el("code", { id: "dev-wallet" }, state.dev.walletAddress), ". No SMS or email is sent: the codes are shown here."),
    el("div", { class: "codes", id: "codes" }), seed, limit);
  renderCodes();
}

async function refreshCodes() {
  if (!state.dev) return;
  for (const to of state.sentTo) {
    const r = await api("GET", "dev/otp?to=" + encodeURIComponent(to));
    if (r.ok) state.codes[to] = r.data.otp;
  }
  renderCodes();
}

function renderCodes() {
  const box = document.getElementById("codes");
  if (!box) return;
  const known = state.sentTo.filter((t) => state.codes[t]);
  box.replaceChildren(known.length ? "Codes the sandbox sent: " : "No code sent yet.",
    ...known.map((t) => el("span", {}, " ", el("code", { "data-code-to": t }, `${t}: ${state.codes[t]}`))));
}

async function init() {
  const d = await api("GET", "dev/session");
  if (d.ok) state.dev = d.data;
  renderDev();
  const r = await api("GET", "/openapi.json");
  if (!r.ok) {
    document.getElementById("start").replaceChildren(el("h2", {}, "The API did not answer"),
      problemBox(r.data || { title: "HTTP " + r.status }),
      el("p", {}, "Outside development mode, the page needs the proxy in front of serve to set the caller's identity (X-Ratioflow-Subject)."));
    return;
  }
  readDocument(r.data);
  renderStart();
  const running = await api("GET", "/v1/flows?running=true");
  if (running.ok && running.data.flows.length) {
    document.getElementById("start").append(el("div", { id: "running" }, el("b", {}, "Your running flows: "),
      running.data.flows.map((f) => el("button", { type: "button", class: "secondary", onclick: () => { state.flow = f; state.problem = null; render(); } }, `${f.kind} in ${f.state}`))));
  }
  setInterval(tick, 500);
}

init();
