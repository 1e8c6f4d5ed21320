// The explorer's page: asks tools/explore.py (this page's own server, nothing else) for numbers
// the trained models computed, and draws them. Three views: side by side, attention, write.
"use strict";

const state = {
  info: null, sampleIndex: 0, asked: 0, pending: 0,
  scored: null, pointed: null,  // side by side: the answer, and the pointed character's span
  attention: null, query: 0,  // attention: the answer, and the chosen row
  writing: null, shown: 0, viewing: -1,  // write: the answer, the steps shown, the step in the table
};
const $ = (id) => document.getElementById(id);
const NARROW = window.matchMedia("(max-width: 700px)");  // a phone: the candidates go under the row

// ---- Talking to the server: every answer is JSON; a refusal carries {"error": message}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  busy(+1);
  try {
    const response = await fetch(path, options);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return answer;
  } finally {
    busy(-1);
  }
}

function busy(change) {  // the loading indicator: shown while any request is on its way
  state.pending += change;
  $("busy").hidden = state.pending === 0;
}

function showError(err) {
  $("error").textContent = err ? `出错 error: ${err.message}` : "";
  $("error").hidden = !err;
}

async function run(task) {
  try {
    showError(null);
    await task();
  } catch (err) {
    showError(err);
  }
}

// ---- Numbers, colours, small pieces

// A probability to two significant digits: 0.52, 0.031, 0.0042, then 3.1e-5; never a bare 0.000.
function formatP(p) {
  if (p === 0) return "0";
  if (p >= 0.995) return p.toFixed(2);
  return p >= 0.001 ? p.toPrecision(2) : p.toExponential(1);
}

const LOG_FLOOR = -4;  // the log scale of colours and bars starts at 1/10,000

function logLevel(p) {  // 0 at 1e-4 and below, 1 at 1
  return p > 0 ? Math.min(1, Math.max(0, (Math.log10(p) - LOG_FLOOR) / -LOG_FLOOR)) : 0;
}

function probabilityColour(p) {
  return `hsl(215, 70%, ${95 - 60 * logLevel(p)}%)`;  // pale to dark blue
}

function inkFor(p) {
  return Math.log10(p) > -1.5 ? "#fff" : "#222";
}

function weightColour(w) {
  return `hsl(25, 90%, ${100 - 55 * w}%)`;  // attention weight 0 (white) to 1 (dark orange), linear
}

function show(ch) {
  return ch === "\n" ? "⏎" : ch;
}

function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);  // text, not HTML: a character of a ci never becomes markup
  return node;
}

function en(text) {
  return element("span", "en", text);
}

function charSpan(ch, className) {
  const span = element("span", className, show(ch));
  if (ch === "\n") span.classList.add("newline");
  return span;
}

function bar(level, className = "bar", widest = 4) {  // level 0..1: a bar up to widest rem
  const span = element("span", className);
  span.style.width = `${(widest * level).toFixed(2)}rem`;  // from script: the page allows no inline style
  return span;
}

function swatch(className, colour) {
  const span = element("span", `swatch ${className}`);
  if (colour) span.style.background = colour;
  return span;
}

function aboutVersion(version) {
  return state.info.versions.find((v) => v.version === version);
}

// Roving focus: a group of characters is one tab stop; the arrow keys move inside it.
function rove(group, chosen) {
  group.querySelectorAll("[tabindex]").forEach((node) => { node.tabIndex = node === chosen ? 0 : -1; });
}

function arrowTarget(event, nodes, index) {
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: nodes.length - 1 };
  if (!(event.key in moves)) return null;
  event.preventDefault();
  return nodes[Math.max(0, Math.min(nodes.length - 1, moves[event.key]))];
}

// ---- Start: what the server has loaded, and a first real ci

async function start() {
  state.info = await api("/api/info");
  const missing = state.info.missing;
  if (missing.length) {
    $("missing").hidden = false;
    $("missing").replaceChildren("缺少 ", en("not found"), ": ", element("b", "", missing.join(", ")),
      ". 训练它们 ", en("train them"), ": ", element("code", "", state.info.train_command));
  }
  if (state.info.mixed.length) {  // checkpoints of different runs: said, never shown as one
    $("mixed").hidden = false;
    $("mixed").replaceChildren("这些检查点不是同一次运行 ", en("these checkpoints are not one run"), ": ",
      state.info.mixed.join("; "));
  }
  const loaded = state.info.versions.filter((v) => v.loaded);
  const withHeads = loaded.filter((v) => v.heads > 0);
  fillSelect($("att-version"), withHeads.map((v) => [v.version, `${v.version} ${v.concept}`]));
  if (withHeads.length) $("att-version").value = withHeads[withHeads.length - 1].version;
  fillHeads();
  fillSelect($("w-version"), loaded.map((v) => [v.version, `${v.version} ${v.concept}`]));
  if (loaded.length) $("w-version").value = loaded[loaded.length - 1].version;
  fillSelect($("w-tune"), [["", "不限 free (no tune)"], ...state.info.tunes.map((t) => [t.tune, `${t.tune} ${t.form}`])]);
  $("w-prompt").value = "\n\n浣溪沙\n";  // real line breaks: the corpus's start of a ci
  $("text").maxLength = state.info.limits.text;
  const sizes = [...new Set(loaded.map((v) => v.block_size))];
  document.querySelectorAll(".block-size").forEach((node) => { node.textContent = sizes.join(" / ") || "block_size"; });
  drawLegend();
  drawWriteLegend();
  describeTune();
  await anotherCi();
}

function fillSelect(select, options) {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
}

async function anotherCi() {
  if (!state.info.samples) return;
  const sample = await api(`/api/sample?index=${state.sampleIndex}`);
  state.sampleIndex = sample.index + 1;
  $("text").value = sample.text;
  await refresh();
}

async function refresh() {
  if (currentView() !== "attention") return scoreText();
  // The head the learner chose stays; a version not drawn yet opens on its furthest-reaching head.
  const shown = state.attention && state.attention.version === $("att-version").value;
  return drawAttention(!shown);
}

// ---- View 1, side by side: each version's probability of every character

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren("概率 ", en("probability"), " (对数刻度 ", en("log scale"), "):");
  for (const p of [1e-4, 1e-3, 1e-2, 1e-1, 1]) legend.append(swatch("", probabilityColour(p)), String(p));
  legend.append(swatch("unknown"), "不在词表 ", en("not in the version's vocabulary"),
    swatch("none"), "没有预测 ", en("no prediction (the first character)"));
}

const KIND_NAMES = {
  "mark or line end": "标点、换行", "tune name": "词牌名", "clause opening": "句首",
  repeated: "前文出现过", other: "其他",
};

async function scoreText() {
  const text = $("text").value;
  if (!text) return;
  const ask = ++state.asked;
  $("view-compare").classList.add("stale");  // the old answer stays only until the new one comes
  hideCandidates();
  let scored;
  try {
    scored = await api("/api/score", { text });
  } finally {
    if (ask === state.asked) $("view-compare").classList.remove("stale");
  }
  if (ask !== state.asked) return;  // a later request was made meanwhile: its answer is drawn, not this one
  state.scored = scored;
  hideCandidates();  // the panel goes home before the rows it may sit among are replaced
  $("compare-rows").replaceChildren(...scored.versions.map(versionRow));
  drawLossTable();
}

function versionRow(version) {
  const about = aboutVersion(version.version);
  const row = element("div", "version-row");
  row.dataset.version = version.version;
  const name = element("div", "version-name", element("b", "", version.version), ` ${about.concept}`);
  if (version.loss !== null) {
    name.append(element("br"), "损失 ", en("loss"), " ", element("span", "loss", version.loss.toFixed(3)),
      " nats", element("span", "en", ` · e^−loss ${formatP(Math.exp(-version.loss))}`));
  }
  const origin = about.origin || {};
  if (origin.val_loss !== null && origin.val_loss !== undefined) {
    name.append(element("br"), element("span", "en",
      `val ${origin.val_loss.toFixed(3)} · ${origin.step.toLocaleString("en")} steps`));
  }
  const strip = element("div", "strip");
  strip.setAttribute("role", "group");
  strip.setAttribute("aria-label", `${version.version} ${about.concept}`);
  [...state.scored.text].forEach((ch, i) => {
    const span = charSpan(ch, "ch");
    span.dataset.index = i;
    span.tabIndex = i === 0 ? 0 : -1;  // one tab stop per row: the arrow keys move inside it
    const p = version.probs[i];
    if (version.unknown.includes(i)) {
      span.classList.add("unknown");
      span.setAttribute("aria-label", `${show(ch)}: 不在词表 not in the vocabulary`);
    } else if (p === null) {
      span.classList.add("none");
      span.setAttribute("aria-label", `${show(ch)}: 没有预测 no prediction`);
    } else {
      span.dataset.p = p;
      span.style.background = probabilityColour(p);
      span.style.color = inkFor(p);
      span.setAttribute("aria-label", `${show(ch)}: p ${formatP(p)}`);
    }
    strip.append(span);  // no line breaks: the versions' rows stay short, one above the other
  });
  row.append(name, strip);
  return row;
}

function drawLossTable() {
  const kinds = [...new Set(state.scored.versions.flatMap((v) => v.by_kind.map(([kind]) => kind)))];
  const table = element("table", "numbers");
  table.createCaption().append("这段文本上的损失（nats，越低越好），按字的种类；和每个版本自己的验证损失 ",
    en("Loss on this text (nats, lower is better), by kind of character; and each version's own val loss"));
  const head = table.createTHead().insertRow();
  const th = (...parts) => head.append(element("th", "", ...parts));
  th("版本 ", en("version"));
  th("全文 ", en("all"));
  kinds.forEach((kind) => th(KIND_NAMES[kind] || kind, " ", en(kind)));
  th("验证损失 ", en("val loss"));
  th("训练步数 ", en("steps"));
  th("检查点 ", en("checkpoint folder"));
  const body = table.createTBody();
  for (const version of state.scored.versions) {
    const row = body.insertRow();
    row.dataset.version = version.version;
    const origin = aboutVersion(version.version).origin || {};
    const byKind = Object.fromEntries(version.by_kind.map(([kind, loss, count]) => [kind, [loss, count]]));
    row.insertCell().textContent = version.version;
    row.insertCell().textContent = version.loss === null ? "—" : version.loss.toFixed(3);
    kinds.forEach((kind) => {
      const cell = row.insertCell();
      if (byKind[kind]) cell.append(byKind[kind][0].toFixed(3), element("span", "en", ` (${byKind[kind][1]})`));
      else cell.textContent = "—";
    });
    row.insertCell().textContent = origin.val_loss === null || origin.val_loss === undefined ? "—" : origin.val_loss.toFixed(3);
    row.insertCell().textContent = origin.step === null || origin.step === undefined ? "—"
      : `${origin.step.toLocaleString("en")} / ${origin.max_iters.toLocaleString("en")}`;
    row.insertCell().append(element("code", "folder", origin.folder || "—"));
  }
  const scroller = element("div", "scroll-x", table);  // a wide table scrolls in its box, never the page
  $("loss-table").replaceChildren(scroller, element("p", "note",
    "括号里是字数。", en("In brackets: how many characters of that kind.")));
}

function showCandidates(span) {
  const i = Number(span.dataset.index);
  const text = [...state.scored.text];
  state.pointed = span;
  document.querySelectorAll("#compare-rows .ch.current").forEach((s) => s.classList.remove("current"));
  document.querySelectorAll("#compare-rows .strip").forEach((strip) => {
    const same = strip.querySelector(`.ch[data-index="${i}"]`);
    same.classList.add("current");
    rove(strip, same);  // Tab to another row lands on the same character
  });
  const panel = $("candidates");
  const title = element("p", "panel-title", `第 ${i + 1} 个字「${show(text[i])}」：每个版本在这里最可能的十个字 `,
    en(`character ${i + 1}: each version's ten likeliest here; the true one highlighted`));
  const tables = element("div", "candidate-tables");
  for (const version of state.scored.versions) {
    const table = element("table", "candidates");
    table.dataset.version = version.version;
    table.createCaption().textContent = version.version;
    const top = version.top[i];
    if (!top) {
      table.insertRow().insertCell().textContent = version.unknown.includes(i) ? "不在词表 not in vocabulary" : "没有预测 no prediction";
    } else {
      const rows = top.map(([ch, p]) => [ch, p, ""]);
      if (!top.some(([ch]) => ch === text[i])) rows.push([text[i], version.probs[i], "真 true"]);  // beyond the ten
      for (const [ch, p, note] of rows) {
        const row = table.insertRow();
        if (ch === text[i]) row.className = "true";
        row.dataset.p = p;
        row.insertCell().textContent = show(ch);
        row.insertCell().textContent = formatP(p);
        row.insertCell().append(note ? element("span", "en", note) : bar(logLevel(p), "bar", 2.5));
      }
    }
    tables.append(table);
  }
  panel.replaceChildren(title, tables, element("p", "note", "条形：对数刻度，同颜色 ",
    en("bars: the log scale of the colours")));
  panel.hidden = false;
  placeCandidates(true);
}

function placeCandidates(justShown) {  // also on every scroll and resize, to follow the character
  const panel = $("candidates"), span = state.pointed;
  if (panel.hidden || !span) return;
  if (NARROW.matches) {  // a phone: under the tapped row, in the page's flow
    panel.classList.remove("floating");
    span.closest(".version-row").after(panel);
    if (justShown === true) panel.scrollIntoView({ block: "nearest" });  // never while the reader scrolls
    return;
  }
  // Beside the pointer: under the character when it fits, else above it, always in the window.
  panel.classList.add("floating");
  const box = span.getBoundingClientRect(), size = panel.getBoundingClientRect();
  const below = box.bottom + 6, above = box.top - size.height - 6;
  const top = below + size.height <= window.innerHeight ? below : Math.max(0, above);
  const left = Math.min(Math.max(8, box.left - 24), window.innerWidth - size.width - 8);
  panel.style.top = `${top}px`;
  panel.style.left = `${Math.max(0, left)}px`;
}

function hideCandidates() {
  const panel = $("candidates");
  panel.hidden = true;
  $("view-compare").insertBefore(panel, $("numbers"));  // home, out of the rows
  state.pointed = null;
}

function onRowsKey(event) {
  const span = event.target.closest(".ch");
  if (!span) return;
  if (event.key === "Escape") return hideCandidates();
  const strip = span.parentElement, rows = [...document.querySelectorAll("#compare-rows .strip")];
  const vertical = { ArrowDown: 1, ArrowUp: -1 }[event.key];
  let target;
  if (vertical) {
    event.preventDefault();
    const next = rows[rows.indexOf(strip) + vertical];
    target = next && next.querySelector(`.ch[data-index="${span.dataset.index}"]`);
  } else {
    target = arrowTarget(event, [...strip.children], Number(span.dataset.index));
  }
  if (target) target.focus();
}

// ---- View 2, attention: one head's weights as a heat-map, every head as small maps

function fillHeads() {
  const about = aboutVersion($("att-version").value);
  if (!about) return;
  fillSelect($("att-layer"), [...Array(about.layers).keys()].map((l) => [l, String(l)]));
  fillSelect($("att-head"), [...Array(about.heads).keys()].map((h) => [h, String(h)]));
}

async function drawAttention(furthest) {
  const version = $("att-version").value;
  if (!version || !$("text").value) return;
  const ask = ++state.asked;
  const request = { text: $("text").value, version };
  if (!furthest) Object.assign(request, { layer: Number($("att-layer").value), head: Number($("att-head").value) });
  $("view-attention").classList.add("stale");
  let attention;
  try {
    attention = await api("/api/attention", request);
  } finally {
    if (ask === state.asked) $("view-attention").classList.remove("stale");
  }
  if (ask !== state.asked) return;  // a later request was made meanwhile
  state.attention = attention;
  $("att-layer").value = attention.layer;
  $("att-head").value = attention.head;
  const { chars, layer, head } = attention;
  const reachOf = attention.heads.find((h) => h.layer === layer && h.head === head).reach;
  const note = $("att-note");
  note.replaceChildren(`文本的前 ${chars.length} 个字：${version} 一次最多读 ${aboutVersion(version).block_size} 个字。`,
    en(`The text's first ${chars.length} characters: ${version} reads at most ${aboutVersion(version).block_size} at once. `),
    furthest ? `这是 ${version} 看得最远的头：第 ${layer} 层第 ${head} 个（看多远 ${reachOf.toFixed(2)}）。`
      : `第 ${layer} 层第 ${head} 个头（看多远 ${reachOf.toFixed(2)}）。`,
    en(furthest ? `This is ${version}'s head that reaches furthest back: layer ${layer}, head ${head} (reach ${reachOf.toFixed(2)}).`
      : `Layer ${layer}, head ${head} (reach ${reachOf.toFixed(2)}).`));
  if (version === "v2") {
    note.append(" v2 没有学来的 query 和 key：每个字的向量和它自己最像，所以它主要看自己（对角线）。",
      en("v2 has no learned query or key: each character's vector is most like itself, so it looks mostly at itself (the diagonal)."));
  }
  const strip = $("att-text");
  strip.replaceChildren(...chars.map((ch, i) => {
    const span = charSpan(ch, "att-char");
    span.dataset.index = i;
    span.tabIndex = -1;
    return span;
  }));
  drawWeightLegend();
  drawHeatMap(attention);
  drawOverview(attention);
  chooseQuery(chars.length - 1);
}

function drawWeightLegend() {
  const legend = $("att-legend");
  legend.replaceChildren("注意力权重 ", en("attention weight"), " (线性刻度 ", en("linear scale"), "; 每行加起来是 1 ", en("each row adds up to 1"), "):");
  for (const w of [0, 0.25, 0.5, 0.75, 1]) legend.append(swatch("", weightColour(w)), String(w));
}

const SVG = "http://www.w3.org/2000/svg";

function svgNode(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const CELL = 18, MARGIN = 50;  // the heat-map's cell, and the room for its labels, in its own units

function drawHeatMap({ version, layer, head, chars, weights }) {
  const cell = CELL, margin = MARGIN, size = margin + cell * chars.length;
  const svg = svgNode("svg", { viewBox: `0 0 ${size} ${size}`, width: size, role: "img",
    "aria-label": `${version} layer ${layer} head ${head}: rows look, columns are looked at` });
  svg.dataset.head = `${version}/${layer}/${head}`;  // which head it shows
  svg.append(svgNode("text", { x: margin, y: 14, class: "axis" }, "被看的字 looked at →"));
  svg.append(svgNode("text", { x: 10, y: margin, class: "axis", transform: `rotate(90 10 ${margin})` }, "看的字 looking →"));
  chars.forEach((ch, i) => {
    svg.append(svgNode("text", { x: margin + cell * i + cell / 2, y: margin - 6, "text-anchor": "middle" }, show(ch)));
    svg.append(svgNode("text", { x: margin - 12, y: margin + cell * i + 13, "text-anchor": "middle" }, show(ch)));
    weights[i].forEach((w, j) => {
      const rect = svgNode("rect", { class: "cell", x: margin + cell * j, y: margin + cell * i,
        width: cell - 1, height: cell - 1, fill: weightColour(w) });
      Object.assign(rect.dataset, { row: i, col: j, w });
      rect.append(svgNode("title", {}, `${show(chars[i])} → ${show(chars[j])}: ${w.toFixed(3)}`));
      svg.append(rect);
    });
  });
  svg.append(svgNode("rect", { id: "att-chosen-row", x: margin - 1, y: margin - 1, width: cell * chars.length + 1,
    height: cell + 1 }));
  svg.addEventListener("click", (event) => {
    if (event.target.dataset.row !== undefined) chooseQuery(Number(event.target.dataset.row));
  });
  $("att-map").replaceChildren(svg);
}

function drawOverview({ version, heads, layer, head }) {
  const overview = $("att-overview");
  if (heads.some((h) => h.weights === null)) {
    overview.replaceChildren(element("p", "note", "头太多、窗口太长，不能都画出来：用上面的选项选一个头。",
      en("Too many heads and too long a window to draw them all: choose a head above.")));
    return;
  }
  const layers = [...new Set(heads.map((h) => h.layer))];
  overview.replaceChildren(...layers.map((l) => {
    const row = element("div", "overview-layer", element("span", "overview-name", `层 layer ${l}`));
    for (const h of heads.filter((x) => x.layer === l)) {
      const t = h.weights.length, scale = Math.max(2, Math.floor(96 / t));
      const canvas = element("canvas");
      canvas.width = canvas.height = t * scale;
      const context = canvas.getContext("2d");
      h.weights.forEach((weightsOfRow, i) => weightsOfRow.forEach((w, j) => {
        context.fillStyle = weightColour(w);
        context.fillRect(j * scale, i * scale, scale, scale);
      }));
      const button = element("button", "thumb", canvas, element("span", "", `头 ${h.head} · ${h.reach.toFixed(2)}`));
      button.dataset.head = `${l}/${h.head}`;
      button.setAttribute("aria-label", `${version} layer ${l} head ${h.head}, reach ${h.reach.toFixed(2)}`);
      button.setAttribute("aria-pressed", String(l === layer && h.head === head));
      button.addEventListener("click", () => {
        $("att-layer").value = l;
        $("att-head").value = h.head;
        run(() => drawAttention(false));
      });
      row.append(button);
    }
    return row;
  }));
}

function chooseQuery(i) {
  const { chars, weights } = state.attention;
  const row = weights[i];
  state.query = i;
  document.querySelectorAll("#att-text .att-char").forEach((span, j) => {
    span.classList.toggle("chosen", j === i);
    span.style.background = j <= i ? weightColour(row[j]) : "";
    span.setAttribute("aria-label", j <= i ? `${show(chars[j])}: ${row[j].toFixed(3)}` : show(chars[j]));
  });
  rove($("att-text"), $("att-text").children[i]);
  const outline = $("att-chosen-row");
  if (outline) outline.setAttribute("y", MARGIN - 1 + CELL * i);
  const strongest = row.map((w, j) => [w, j]).sort((a, b) => b[0] - a[0]).slice(0, 5);
  $("att-row").replaceChildren(`第 ${i + 1} 个字「${show(chars[i])}」看 `, en(`character ${i + 1} looks at`), ": ",
    strongest.map(([w, j]) => `${show(chars[j])} (${j + 1}) ${w.toFixed(2)}`).join(" · "));
}

function onAttentionKey(event) {
  const span = event.target.closest(".att-char");
  if (!span) return;
  const target = arrowTarget(event, [...$("att-text").children], Number(span.dataset.index));
  if (target) target.focus();
}

// ---- View 3, write: step by step, what the model thought and what was drawn

const KIND_LABEL = {
  prompt: "开头 prompt", acrostic: "藏头 acrostic (forced)", rule: "格律规则 the form's rule (forced)", sampled: "抽样 sampled",
};
const CUT_LABEL = {
  form: ["格律屏蔽", "the form's mask"], "top-k": ["top-k 截掉", "cut by top-k"],
  "top-p": ["top-p 截掉", "cut by top-p"], rule: ["规则写了别的字", "the rule wrote another"],
};

function drawWriteLegend() {
  $("w-legend").replaceChildren(...Object.entries(KIND_LABEL).flatMap(([kind, label]) => [
    element("span", `ch kind-${kind}`, "字"), ` ${label}  `]), "（点一个字看那一步 ", en("click a character to see its step"), "）");
}

function describeTune() {
  const tune = state.info.tunes.find((t) => t.tune === $("w-tune").value);
  $("w-prompt").disabled = $("w-length").disabled = Boolean(tune);  // a tune sets both
  $("w-acrostic").disabled = $("w-rhyme").disabled = $("w-tones").disabled = !tune;
  const note = $("w-tune-note");
  if (!tune) {
    note.replaceChildren("不限词牌：在开头之后自由写，什么也不强制。", en("No tune: written freely after the prompt, nothing forced."));
    return;
  }
  note.replaceChildren(`${tune.tune} ${tune.form}：数字是一句的字数，后面是句末的标点，/ 是换行。语料里 ${tune.tune} 的词有 ${Math.round(tune.share * 100)}%（${tune.count} 首）是这个格式；写的时候句中不许标点，句末强制写这个标点。`,
    en(`${tune.form}: each number is a clause's length, then the mark that ends it; / is a line break. ${Math.round(tune.share * 100)}% of the corpus's ${tune.tune} (${tune.count} ci) have this form. Writing to it masks every mark inside a clause and forces the template's mark at its end.`));
}

async function startWriting() {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  const request = {
    version: $("w-version").value, temperature: number("w-temperature"), top_k: number("w-top-k"),
    top_p: number("w-top-p"), seed: number("w-seed"),
  };
  if ($("w-tune").value) {
    request.tune = $("w-tune").value;
    request.acrostic = $("w-acrostic").value.trim();
    request.rhyme = $("w-rhyme").checked;  // at the tune's rhyme positions, one rhyme group
    request.tones = $("w-tones").checked;  // at the places the tune fixes, that tone
  } else {
    request.prompt = $("w-prompt").value;
    request.length = number("w-length");
  }
  $("w-output").classList.add("stale");
  let writing;
  try {
    writing = await api("/api/write", request);
  } catch (err) {
    markStale();
    throw err;
  }
  state.writing = writing;
  state.shown = 0;
  state.viewing = -1;
  $("w-output").classList.remove("stale");
  $("w-stale").hidden = true;
  $("w-step").disabled = $("w-all").disabled = false;
  drawWriting();
}

function markStale() {  // a knob changed: what is on screen was written with other settings
  if (!state.writing) return;
  $("w-output").classList.add("stale");
  $("w-stale").hidden = false;
  $("w-step").disabled = $("w-all").disabled = true;
}

function reveal(count) {
  if (!state.writing) return;
  state.shown = Math.min(state.writing.steps.length, count);
  state.viewing = state.shown - 1;
  drawWriting();
}

function drawWriting() {
  const { prompt, steps } = state.writing;
  const strip = $("w-text");
  strip.replaceChildren();
  for (const ch of prompt.replace(/^\n+/, "")) {
    strip.append(charSpan(ch, "ch kind-prompt"));
    if (ch === "\n") strip.append(element("br"));
  }
  const places = formPlaces(steps, state.writing.form);
  steps.slice(0, state.shown).forEach((step, i) => {
    const span = charSpan(step.char, `ch kind-${step.kind}`);
    span.dataset.step = i;
    if (state.writing.form && step.tone) span.dataset.tone = step.tone;  // its tone, shown above it
    if (places[i]) {  // a character of a clause: the 格律 of its place
      const { fixed, rhymes } = places[i];
      if (fixed !== "·") span.classList.add(step.tone === fixed ? "on-tone" : "off-tone");
      if (rhymes) span.classList.add("rhyme-pos");
    }
    span.tabIndex = i === state.viewing ? 0 : -1;
    span.setAttribute("aria-label", `第 ${i + 1} 步 step ${i + 1}: ${show(step.char)}, ${KIND_LABEL[step.kind]}`);
    if (i === state.viewing) span.classList.add("current");
    strip.append(span);
    if (step.char === "\n") strip.append(element("br"));
  });
  drawStep();
  drawResult(state.shown === steps.length);
}

// For each step of a writing to a tune, the place it fills: its clause's fixed tone there (平, 仄
// or · for free) and whether it ends a clause that rhymes; null for marks and line breaks.
function formPlaces(steps, form) {
  if (!form) return [];
  let clause = 0, place = 0;
  return steps.map((step) => {
    if (step.char === "\n") return null;
    if (!/\p{L}/u.test(step.char)) {  // the mark that ends a clause
      clause += 1;
      place = 0;
      return null;
    }
    const tones = form.tones[clause] || "";
    const found = { fixed: tones[place] || "·", rhymes: form.rhymes.includes(clause) && place === tones.length - 1 };
    place += 1;
    return found;
  });
}

function viewStep(i) {
  state.viewing = i;
  document.querySelectorAll("#w-text .ch.current").forEach((s) => s.classList.remove("current"));
  const span = document.querySelector(`#w-text .ch[data-step="${i}"]`);
  span.classList.add("current");
  rove($("w-text"), span);
  drawStep();
}

function drawStep() {
  const view = $("w-step-view");
  view.replaceChildren();
  if (state.viewing < 0) return;
  const steps = state.writing.steps, step = steps[state.viewing], n = state.viewing + 1;
  const table = element("table", "step");
  table.createCaption().append(`第 ${n} 步 step ${n}/${steps.length}: `, step.kind === "sampled"
    ? `抽到 drew ${show(step.char)}, 模型 model p ${formatP(Math.exp(step.logprob))}, 抽样 drawn p ${formatP(step.drawn)}`
    : `${KIND_LABEL[step.kind]}: ${show(step.char)}`);
  const head = table.createTHead().insertRow();
  for (const [zh, english] of [["字", "char"], ["模型", "model p"], ["抽样", "drawn p"], ["", ""], ["没机会的原因", "why no chance"]]) {
    head.append(element("th", "", zh, english ? element("br") : "", english ? en(english) : ""));
  }
  const rows = step.candidates.map(([ch, p, drawn, cut]) => [ch, p, drawn, cut]);
  if (!step.candidates.some(([ch]) => ch === step.char)) {  // drawn from beyond the ten likeliest
    rows.push([step.char, Math.exp(step.logprob), step.drawn, "beyond"]);
  }
  const body = table.createTBody();
  for (const [ch, p, drawn, cut] of rows) {
    const row = body.insertRow();
    row.className = (ch === step.char ? "chosen " : "") + (cut && cut !== "beyond" ? "cut" : "");
    Object.assign(row.dataset, { char: ch, model: p, drawn });
    row.insertCell().textContent = show(ch);
    row.insertCell().textContent = formatP(p);
    row.insertCell().textContent = formatP(drawn);
    row.insertCell().append(element("div", "bars", bar(logLevel(p), "bar model"), bar(logLevel(drawn), "bar drawn")));
    const why = row.insertCell();
    if (cut === "beyond") why.append("不在前十 ", en("not in the ten"));
    else if (cut) why.append(CUT_LABEL[cut][0], " ", en(CUT_LABEL[cut][1]));
  }
  view.append(element("div", "scroll-x", table), element("p", "note",
    "模型：模型自己的概率（温度 1，什么都不截）。抽样：这一步真正抽的概率，经过温度、top-k、top-p 和格律屏蔽，再归一化。条形是对数刻度（灰：模型，蓝：抽样）。",
    en("Model: the model's own probability (temperature 1, nothing cut). Drawn: the probability this step drew with, after temperature, top-k, top-p and the form's mask, renormalised. Bars on a log scale (grey: model, blue: drawn).")));
}

function drawResult(done) {
  const result = $("w-result");
  result.replaceChildren();
  if (!done) return;
  const { form, copy, mean_logprob } = state.writing;
  if (form) {
    result.append(element("p", "", "格式分 form score ", element("b", "form-score", form.score.toFixed(2)),
      en(` (1.00: every clause of ${form.tune} ${form.template} has its length and mark, in order)`)));
    const score = (value) => (value === null ? "—" : value.toFixed(2));
    result.append(element("p", "", "押韵分 rhyme score ", element("b", "rhyme-score", score(form.rhyme_score)),
      " · 平仄分 tone score ", element("b", "tone-score", score(form.tone_score)),
      en(` (the share of ${form.tune}'s rhyme positions that rhyme, and of its fixed tones met, read in modern Mandarin; ` +
        "underlined: a rhyme position; red: a fixed tone missed)")));
    result.append(element("p", "note", `${form.tune} 的格律 `, en("its tones and rhymes, measured on its ci"), ": ",
      form.tones.map((tones, k) => tones + (form.rhymes.includes(k) ? "（韵）" : "")).join(" "),
      en(" (平 or 仄: fixed in at least 80% of its ci; ·: free; 韵: rhymes in most)")));
  }
  if (copy) {
    const share = (x) => (x === null ? "—" : `${Math.round(x * 100)}%`);
    const longest = copy.longest.length >= 4 ? copy.longest : "—";
    result.append(element("p", "", `抄袭检查 copy check: 4-gram ${share(copy["4-gram"])}, 8-gram ${share(copy["8-gram"])}, ` +
      `最长 longest copied run ${longest}`, en(" (shares of the writing's 4- and 8-character runs found in the training text)")));
  }
  result.append(element("p", "", `平均对数概率 mean log-probability ${mean_logprob.toFixed(2)}`,
    en(" (the model's own, over every step; forced ones included)")));
}

function onWritingKey(event) {
  const span = event.target.closest(".ch[data-step]");
  if (!span) return;
  const spans = [...$("w-text").querySelectorAll(".ch[data-step]")];
  const target = arrowTarget(event, spans, Number(span.dataset.step));
  if (target) target.focus();
}

// ---- Tabs and buttons

function currentView() {
  return document.querySelector('nav [aria-selected="true"]').dataset.view;
}

function chooseView(view) {
  document.querySelectorAll("nav button").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.view === view));
    b.tabIndex = b.dataset.view === view ? 0 : -1;
  });
  document.querySelectorAll(".view").forEach((section) => { section.hidden = section.id !== `view-${view}`; });
  document.querySelectorAll("#score [data-for]").forEach((label) => { label.hidden = label.dataset.for !== view; });
  $("text-box").hidden = view === "write";
  hideCandidates();
  if (view !== "write") run(refresh);
}

function onTabsKey(event) {
  const tabs = [...document.querySelectorAll("nav button")];
  const target = arrowTarget(event, tabs, tabs.indexOf(event.target));
  if (!target) return;
  target.focus();
  chooseView(target.dataset.view);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => chooseView(b.dataset.view)));
  document.querySelector("nav").addEventListener("keydown", onTabsKey);
  $("another").addEventListener("click", () => run(anotherCi));
  $("score").addEventListener("click", () => run(refresh));
  const rows = $("compare-rows");
  for (const type of ["mouseover", "focusin", "click"]) {
    rows.addEventListener(type, (event) => {
      const span = event.target.closest(".ch");
      if (span && span !== state.pointed) showCandidates(span);
    });
  }
  rows.addEventListener("keydown", onRowsKey);
  window.addEventListener("scroll", placeCandidates, { passive: true });
  window.addEventListener("resize", placeCandidates);
  $("att-version").addEventListener("change", () => { fillHeads(); run(() => drawAttention(true)); });
  $("att-layer").addEventListener("change", () => run(() => drawAttention(false)));
  $("att-head").addEventListener("change", () => run(() => drawAttention(false)));
  $("att-text").addEventListener("click", (event) => {
    const span = event.target.closest(".att-char");
    if (span) chooseQuery(Number(span.dataset.index));
  });
  $("att-text").addEventListener("focusin", (event) => chooseQuery(Number(event.target.dataset.index)));
  $("att-text").addEventListener("keydown", onAttentionKey);
  $("w-start").addEventListener("click", () => run(startWriting));
  $("w-step").addEventListener("click", () => reveal(state.shown + 1));
  $("w-all").addEventListener("click", () => reveal(Infinity));
  $("w-text").addEventListener("click", (event) => {
    const span = event.target.closest(".ch[data-step]");
    if (span) viewStep(Number(span.dataset.step));
  });
  $("w-text").addEventListener("focusin", (event) => {
    if (event.target.dataset.step !== undefined) viewStep(Number(event.target.dataset.step));
  });
  $("w-text").addEventListener("keydown", onWritingKey);
  for (const id of ["w-version", "w-tune", "w-acrostic", "w-rhyme", "w-tones", "w-prompt", "w-length", "w-temperature", "w-top-k", "w-top-p", "w-seed"]) {
    $(id).addEventListener("input", markStale);
  }
  $("w-tune").addEventListener("change", describeTune);
  run(start);
});
