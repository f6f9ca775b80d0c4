// dsforge review: plain JS over the /api endpoints of server.py. No framework, no CDN, nothing from the internet.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { run: null, step: null, which: "kept", offset: 0, limit: 25, total: 0, current: null, label: null, guidelines: {} };
// label buttons: a row's own verdict, or (preference rows) which answer of the pair is better
const ROW_LABELS = ["accept", "reject"], PAIR_LABELS = ["a", "b", "tie", "both-bad"];
const isPair = () => !!(state.current && state.current.row.kind === "preference");
// the default guideline of each layout (static/guidelines.json), unless the run has its own
const layoutOf = (kind) => (kind === "preference" ? "preference" : kind === "scored" ? "reward" : "sft");

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// replaceChildren that skips the null/false a conditional child gives (it would print "null")
const put = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));

const fmt = (n) => (n === null || n === undefined ? "" : Number(n).toLocaleString("en"));

async function api(path, params = {}, body = null) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
  const res = await fetch(url, body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {});
  const data = await res.json();
  if (!res.ok) throw new Error(data.detail || res.statusText);
  return data;
}

function showError(err) {
  const box = $("#error");
  box.hidden = !err;
  box.textContent = err ? String(err.message || err) : "";
}

// ---------------------------------------------------------------- the run: steps and rejects

async function loadRun() {
  state.run = await api("/api/run");
  $("#run-name").textContent = `${state.run.recipe} · ${state.run.run_dir}${state.run.status ? " · " + state.run.status : ""}`;
  $("#guideline").textContent = state.run.guideline || state.guidelines.sft || "";
  const steps = $("#steps tbody");
  put(steps);
  const stepSel = $("#f-step");
  stepSel.replaceChildren();
  for (const s of state.run.steps) {
    steps.append(el("tr", { "data-step": s.name },
      el("td", {}, s.step_id, s.reused_from ? el("span", { class: "muted", title: "reused from " + s.reused_from }, " ↺") : null),
      el("td", { class: "num" }, fmt(s.rows_in)),
      el("td", { class: "num" }, el("a", { class: "count", "data-testid": `kept-${s.name}`, onclick: () => openList(s.name, "kept") }, fmt(s.kept))),
      el("td", { class: "num" }, s.rejected ? el("a", { class: "count", "data-testid": `rejected-${s.name}`, onclick: () => openList(s.name, "rejected") }, fmt(s.rejected)) : "0")));
    stepSel.append(el("option", { value: s.name }, s.name));
  }
  const rejects = $("#rejects tbody");
  put(rejects);
  for (const r of state.run.rejects) {
    rejects.append(el("tr", { class: "click", "data-reason": r.reason, onclick: () => openList(r.step, "rejected", { reason: r.reason }) },
      el("td", {}, el("span", { class: "badge reason" }, r.reason)), el("td", { class: "muted" }, r.step.replace(/^\d+-/, "")),
      el("td", { class: "num" }, fmt(r.count))));
  }
  if (!state.run.rejects.length) rejects.append(el("tr", {}, el("td", { colspan: 3, class: "muted" }, "no step rejected anything")));
  const last = state.run.steps[state.run.steps.length - 1];
  await openList(last.name, "kept");
}

// ---------------------------------------------------------------- filters and the row list

async function loadFacets() {
  const f = await api("/api/facets", { step: state.step, which: state.which });
  const fill = (sel, items, anyText, keep) => {
    const s = $(sel);
    put(s, el("option", { value: "" }, anyText), ...items.map(([v, n]) => el("option", { value: v ?? "" }, `${v} (${fmt(n)})`)));
    s.value = keep && items.some(([v]) => v === keep) ? keep : "";
  };
  fill("#f-source", f.sources, "any source", $("#f-source").value);
  fill("#f-reason", f.reasons, "any reason", state.pendingReason || "");
  fill("#f-kind", f.kinds, "any kind", $("#f-kind").value);
  $("#f-reason").disabled = state.which !== "rejected";
  const col = $("#f-column"), keepCol = col.value;
  put(col, el("option", { value: "" }, "column…"), ...Object.entries(f.columns).map(([c, t]) => el("option", { value: c, title: t }, c)));
  col.value = keepCol in f.columns ? keepCol : "";
}

function filters() {
  return {
    step: state.step, which: state.which, q: $("#f-q").value.trim(), source: $("#f-source").value,
    reason: state.which === "rejected" ? $("#f-reason").value : "", kind: $("#f-kind").value,
    column: $("#f-column").value, op: $("#f-op").value, value: $("#f-column").value ? $("#f-value").value : "",
    label: $("#f-label").value, annotator: $("#f-label").value ? $("#f-annotator").value.trim() : "",
    sample: Number($("#f-sample").value) || 0, seed: Number($("#f-seed").value) || 0,
    offset: state.offset, limit: state.limit,
  };
}

async function openList(step, which, opts = {}) {
  showTab("rows");
  state.step = step; state.which = which; state.offset = 0;
  $("#f-step").value = step; $("#f-which").value = which;
  state.pendingReason = opts.reason || "";
  await loadFacets();
  state.pendingReason = "";
  await loadRows();
}

async function loadRows() {
  showError(null);
  let page;
  try { page = await api("/api/rows", filters()); } catch (e) { showError(e); return; }
  state.total = page.total;
  const sampled = page.matching !== undefined;
  $("#total").textContent = sampled ? `a sample of ${fmt(page.total)} of ${fmt(page.matching)} matching rows (seed ${$("#f-seed").value})`
    : `${fmt(page.total)} ${state.which} rows in ${state.step}`;
  const pages = Math.max(1, Math.ceil(page.total / state.limit));
  $("#page").textContent = `page ${Math.floor(state.offset / state.limit) + 1} of ${fmt(pages)}`;
  $("#prev").disabled = state.offset === 0;
  $("#next").disabled = state.offset + state.limit >= page.total;
  const list = $("#list");
  put(list, ...page.rows.map((r) => el("li", { "data-id": r.id, onclick: () => openRow(r.id) },
    el("div", { class: "meta" }, el("code", {}, r.id), el("span", {}, r.kind), el("span", {}, r.source),
      r.reason ? el("span", { class: "badge reason" }, r.reason) : null,
      ...(r.labels || []).map((l) => el("span", { class: `badge ${l.label || ""}`, title: l.annotator }, `${l.annotator}: ${l.label || ""}${l.score != null ? " " + l.score : ""}`))),
    el("div", { class: "snip" }, snippetOf(r)),
    r.detail ? el("div", { class: "meta" }, r.detail) : null)));
  if (!page.rows.length) list.append(el("li", { class: "muted" }, "no rows match"));
}

function snippetOf(r) {
  if (r.kind === "conversation" && r.messages && r.messages.length) return r.messages.map((m) => `${m.role}: ${m.content}`).join("\n");
  if (r.kind === "document") return r.text || "";
  const prompt = [r.instruction, r.input].filter(Boolean).join("\n");
  return `${prompt}\n→ ${r.response ?? r.chosen_response ?? r.rendered_text ?? ""}`;
}

// ---------------------------------------------------------------- one row

function field(name, text, cls = "", always = false) {
  const empty = text === null || text === undefined || text === "";
  if (empty && !always) return null;
  return el("div", { class: `field ${cls}` }, el("div", { class: "name" }, name),
    el("div", { class: empty ? "text muted" : "text" }, empty ? (text === "" ? "(empty)" : "(missing)") : text));
}

function renderRecord(row) {
  const out = [];
  if (row.kind === "conversation" && row.messages && row.messages.length) {
    out.push(el("div", { class: "bubbles" }, row.messages.map((m) =>
      el("div", { class: `bubble ${m.role}` }, el("span", { class: "role" }, m.role), m.content || ""))));
  } else if (row.kind === "preference") {
    out.push(field("instruction", row.instruction), field("input", row.input));
    out.push(el("div", { class: "pair" }, field("A · chosen_response", row.chosen_response, "chosen") || el("div"), field("B · rejected_response", row.rejected_response, "rejected") || el("div")));
  } else if (row.kind === "document") {
    out.push(field("text", row.text));
  } else {
    out.push(field("instruction", row.instruction, "", true), field("input", row.input), field("response", row.response, "", true));
    if (row.kind === "scored") out.push(field("score", row.score));
  }
  if (row.rendered_text) out.push(el("details", {}, el("summary", {}, "rendered text (what the trainer sees)"), field("rendered_text", row.rendered_text)));
  return out.filter(Boolean);
}

function renderChanges(data) {
  if (!data.previous_step) return el("p", { class: "muted" }, "the first step: nothing before it");
  if (!data.before) return el("p", { class: "muted" }, `not among ${data.previous_step}'s kept rows (created by this step)`);
  if (!data.changes.length) return el("p", { class: "muted" }, `unchanged since ${data.previous_step}`);
  return el("div", {}, el("p", { class: "muted" }, `what changed since ${data.previous_step}:`), data.changes.map((c) =>
    c.diff ? el("div", { class: "field diff", "data-field": c.field }, el("div", { class: "name" }, c.field),
      el("div", { class: "text" }, c.diff.map(([op, t], i) => (op === "=" ? context(t, i === 0, i === c.diff.length - 1) : el(op === "-" ? "del" : "ins", {}, t)))))
      : el("div", { class: "field" }, el("div", { class: "name" }, c.field), el("div", { class: "text" },
        el("del", {}, JSON.stringify(c.before)), " → ", el("ins", {}, JSON.stringify(c.after))))));
}

// unchanged text between edits: only its ends, so the edits are what one sees
function context(t, first, last, keep = 70) {
  if (t.length <= 2 * keep + 20) return t;
  if (first) return ["… ", t.slice(-keep)];
  if (last) return [t.slice(0, keep), " …"];
  return [t.slice(0, keep), el("span", { class: "muted", title: `${t.length - 2 * keep} characters unchanged` }, " … "), t.slice(-keep)];
}

function renderLineage(lineage) {
  if (!lineage || !lineage.length) return el("p", { class: "muted" }, "no lineage");
  return el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "stage"), el("th", {}, "info"))),
    el("tbody", {}, lineage.map((l) => el("tr", {}, el("td", {}, l.stage), el("td", {}, el("code", {}, l.info))))));
}

async function openRow(id) {
  let data;
  state.opening = id;
  try { data = await api("/api/row", { step: state.step, which: state.which, id }); } catch (e) { showError(e); return; }
  if (state.opening !== id) return;  // a later click won
  state.current = data;
  document.querySelectorAll("#list li").forEach((li) => li.classList.toggle("current", li.dataset.id === id));
  const r = data.row;
  const extra = Object.entries(r).filter(([k]) => !["id", "source", "kind", "text", "instruction", "input", "response", "messages",
    "chosen_response", "rejected_response", "rendered_text", "score", "metadata", "lineage", "stage", "reason", "detail"].includes(k) && r[k] !== null);
  put($("#row-view"), 
    el("h3", { id: "row-id" }, r.id),
    el("div", { class: "meta" }, el("span", {}, r.kind), el("span", {}, r.source), el("span", {}, data.step + " · " + data.which),
      r.reason ? el("span", { class: "badge reason" }, r.reason) : null),
    r.detail ? el("p", { class: "error" }, r.detail) : null,
    ...renderRecord(r),
    extra.length ? el("details", {}, el("summary", {}, `other columns (${extra.length})`),
      el("table", {}, el("tbody", {}, extra.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))))) : null,
    r.metadata && r.metadata !== "{}" ? el("details", {}, el("summary", {}, "metadata"), el("pre", {}, r.metadata)) : null,
    el("h3", {}, "Before / after"), renderChanges(data),
    el("h3", {}, "Lineage"), renderLineage(r.lineage));
  $("#label-box").hidden = false;
  $("#choices-row").hidden = isPair();
  $("#choices-pair").hidden = !isPair();
  if (!state.run.guideline) $("#guideline").textContent = state.guidelines[layoutOf(r.kind)] || "";
  showLabels(data.labels);
}

// ---------------------------------------------------------------- labels

function showLabels(labels) {
  const me = $("#annotator").value.trim();
  const mine = labels.find((l) => l.annotator === me);
  state.label = mine ? mine.label : null;
  $("#lab-score").value = mine && mine.score != null ? mine.score : "";
  $("#lab-note").value = mine && mine.note ? mine.note : "";
  paintChoice();
  const others = labels.filter((l) => l.annotator !== me);
  put($("#lab-others"), others.length ? el("div", {}, el("div", { class: "muted" }, "others:"), others.map((l) =>
    el("div", { class: "meta" }, el("span", { class: `badge ${l.label || ""}` }, `${l.annotator}: ${l.label || "–"}`),
      l.score != null ? el("span", {}, `score ${l.score}`) : null, l.note ? el("span", {}, l.note) : null))) : "");
  $("#lab-status").textContent = mine ? `saved ${mine.updated}` : "";
}

function paintChoice() {
  for (const l of [...ROW_LABELS, ...PAIR_LABELS]) $(`#lab-${l}`).classList.toggle("on", state.label === l);
}

async function saveLabel(clear = false, advance = false) {
  const annotator = $("#annotator").value.trim();
  if (!annotator) { $("#lab-status").textContent = "type your name (annotator) at the top first"; $("#annotator").focus(); return; }
  localStorage.setItem("dsforge-annotator", annotator);
  const body = clear ? { id: state.current.row.id, step: state.step, annotator, label: null, score: null, note: null }
    : { id: state.current.row.id, step: state.step, annotator, label: state.label, score: $("#lab-score").value || null, note: $("#lab-note").value };
  try {
    const saved = await api("/api/labels", {}, body);
    const data = await api("/api/row", { step: state.step, which: state.which, id: body.id });
    if (state.current.row.id === body.id) {  // the person may have opened another row meanwhile
      state.current.labels = data.labels;
      showLabels(data.labels);
    }
    $("#lab-status").textContent = saved.removed ? "removed" : `saved ${saved.updated}`;
    $("#lab-status").dataset.saved = String(Date.now());
    const li = document.querySelector(`#list li[data-id="${CSS.escape(body.id)}"] .meta`);
    if (li) {
      li.querySelectorAll(".badge:not(.reason)").forEach((b) => b.remove());
      data.labels.forEach((l) => li.append(el("span", { class: `badge ${l.label || ""}` }, `${l.annotator}: ${l.label || ""}${l.score != null ? " " + l.score : ""}`)));
    }
    if (advance && state.current.row.id === body.id) await moveRow(1);
  } catch (e) { $("#lab-status").textContent = "not saved: " + e.message; }
}

// ---------------------------------------------------------------- keyboard: label fast

async function moveRow(step) {
  const items = [...document.querySelectorAll("#list li[data-id]")];
  const at = items.findIndex((li) => state.current && li.dataset.id === state.current.row.id);
  const next = items[at + step];
  if (next) return openRow(next.dataset.id);
  const offset = state.offset + step * state.limit;  // past the page's end (or start): the next (previous) page
  if (offset < 0 || offset >= state.total) return;
  state.offset = offset;
  await loadRows();
  const rows = [...document.querySelectorAll("#list li[data-id]")];
  const target = step > 0 ? rows[0] : rows[rows.length - 1];
  if (target) await openRow(target.dataset.id);
}

function choose(label) {  // one keypress: set the label, save it, go to the next row
  if (!state.current) return;
  state.label = label;
  paintChoice();
  saveLabel(false, true);
}

const KEYS_ROW = { a: "accept", r: "reject" }, KEYS_PAIR = { a: "a", b: "b", t: "tie", x: "both-bad" };

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select")) return;
  const k = e.key;
  if (k === "j" || k === "ArrowDown") { e.preventDefault(); moveRow(1); return; }
  if (k === "k" || k === "ArrowUp") { e.preventDefault(); moveRow(-1); return; }
  if (k === "?") { $("#keys-help").classList.toggle("flash"); $("#keys-help").scrollIntoView({ block: "nearest" }); return; }
  if (!state.current) return;
  const label = (isPair() ? KEYS_PAIR : KEYS_ROW)[k];
  if (label) { e.preventDefault(); choose(label); return; }
  if (/^[1-5]$/.test(k)) { e.preventDefault(); $("#lab-score").value = k; saveLabel(false, true); return; }
  if (k === "s") { e.preventDefault(); saveLabel(false, false); }
});

async function loadLabelsView() {
  const data = await api("/api/labels");
  const a = data.agreement, ar = a.accept_reject, sc = a.scores;
  $("#labels-file").textContent = `${fmt(a.labels)} labels on ${fmt(a.rows)} rows by ${a.annotators.length} annotators · ${data.labels_file}`;
  const pct = (x) => (x == null ? "n/a" : `${(100 * x).toFixed(0)}%`);
  const num = (x) => (x == null ? "n/a" : x.toFixed(3));
  put($("#agreement"), 
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("div", { class: "label" }, "accept/reject agreement"), el("div", { class: "figure", id: "agree-pct" }, ar.items ? pct(ar.agreement) : "n/a"),
        el("div", { class: "muted" }, `${fmt(ar.items)} rows labelled by 2+ annotators`)),
      el("div", { class: "card" }, el("div", { class: "label" }, "Krippendorff's alpha (nominal)"), el("div", { class: "figure", id: "agree-alpha" }, ar.items ? num(ar.alpha_nominal) : "n/a")),
      el("div", { class: "card" }, el("div", { class: "label" }, "scores: alpha (interval)"), el("div", { class: "figure" }, sc.items ? num(sc.alpha_interval) : "n/a"),
        el("div", { class: "muted" }, `${fmt(sc.items)} rows scored by 2+`))),
    el("table", { id: "per-annotator" }, el("thead", {}, el("tr", {}, ["annotator", "labels", "accept", "reject", "scored", "noted"].map((h) => el("th", {}, h)))),
      el("tbody", {}, a.per_annotator.map((p) => el("tr", {}, el("td", {}, p.annotator), [p.labels, p.accept, p.reject, p.scored, p.noted].map((v) => el("td", { class: "num" }, fmt(v))))))),
    ar.pairs && ar.pairs.length ? el("table", { id: "pairs" }, el("thead", {}, el("tr", {}, ["annotators", "shared rows", "agreement", "Cohen's kappa"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ar.pairs.map((p) => el("tr", {}, el("td", {}, p.annotators.join(" · ")), el("td", { class: "num" }, p.items), el("td", { class: "num" }, pct(p.agreement)), el("td", { class: "num" }, num(p.kappa)))))) : null,
    ar.disagreements && ar.disagreements.length ? el("div", {}, el("h3", {}, "Rows they disagree on"), ar.disagreements.map((d) =>
      el("div", { class: "meta" }, el("code", {}, d.id), Object.entries(d.labels).map(([n, l]) => el("span", { class: `badge ${l}` }, `${n}: ${l}`))))) : null);
  put($("#labels-table tbody"), ...data.labels.map((l) => el("tr", {}, [l.id, l.step, l.annotator, l.label, l.score, l.note, l.updated].map((v) => el("td", {}, v ?? "")))));
}

function showTab(which) {
  const labels = which === "labels";
  $("#tab-rows").classList.toggle("active", !labels);
  $("#tab-labels").classList.toggle("active", labels);
  $("#rows-view").hidden = labels; $("#detail").hidden = labels; $("#labels-view").hidden = !labels;
  document.querySelector("main").classList.toggle("labels-mode", labels);
  if (labels) loadLabelsView().catch(showError);
}

// ---------------------------------------------------------------- wiring

$("#annotator").value = localStorage.getItem("dsforge-annotator") || "";
$("#annotator").addEventListener("change", () => { localStorage.setItem("dsforge-annotator", $("#annotator").value.trim()); if (state.current) showLabels(state.current.labels || []); });
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); state.offset = 0; loadRows(); });
$("#f-step").addEventListener("change", () => openList($("#f-step").value, $("#f-which").value));
$("#f-which").addEventListener("change", () => openList($("#f-step").value, $("#f-which").value));
$("#clear-filters").addEventListener("click", () => { $("#filters").reset(); openList(state.step, state.which); });
$("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); loadRows(); });
$("#next").addEventListener("click", () => { state.offset += state.limit; loadRows(); });
$("#tab-rows").addEventListener("click", () => showTab("rows"));
$("#tab-labels").addEventListener("click", () => showTab("labels"));
for (const l of [...ROW_LABELS, ...PAIR_LABELS]) {
  $(`#lab-${l}`).addEventListener("click", () => { state.label = state.label === l ? null : l; paintChoice(); });
}
$("#lab-save").addEventListener("click", () => saveLabel(false));
$("#lab-clear").addEventListener("click", () => saveLabel(true));
fetch("/static/guidelines.json").then((r) => r.json()).then((g) => { state.guidelines = g; })
  .catch(() => {}).finally(() => loadRun().catch(showError));
