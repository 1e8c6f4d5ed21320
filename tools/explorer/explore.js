// The explorer's page: asks tools/explore.py (this page's own server, nothing else) for numbers
// the trained models computed, and draws them. Three views: side by side, attention, write.
"use strict";

const state = { info: null, sampleIndex: 0, scored: null, writing: null, shown: 0, attention: null, asked: 0 };
const $ = (id) => document.getElementById(id);

// ---- Talking to the server: every answer is JSON; a refusal carries {"error": message}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
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

// ---- Colours: a probability on a log scale, from 1/10,000 (pale) to 1 (dark blue)

function probabilityColour(p) {
  const level = Math.min(1, Math.max(0, (Math.log10(p) + 4) / 4));  // 0 at 1e-4 and below, 1 at 1
  return `hsl(215, 70%, ${95 - 60 * level}%)`;
}

function weightColour(w) {
  return `hsl(25, 90%, ${100 - 55 * w}%)`;  // attention weight 0 (white) to 1 (dark orange)
}

function inkFor(p) {
  return Math.log10(p) > -1.5 ? "#fff" : "#222";
}

function charSpan(ch, className) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = ch === "\n" ? "⏎" : ch;
  if (ch === "\n") span.classList.add("newline");
  return span;
}

function bar(width) {
  const span = document.createElement("span");
  span.className = "bar";
  span.style.width = `${Math.round(width)}px`;  // set from script: the page allows no inline style
  return span;
}

function appendText(parent, node, ch) {
  parent.append(node);
  if (ch === "\n") parent.append(document.createElement("br"));
}

// ---- Start: what the server has loaded, and a first real ci

async function start() {
  state.info = await api("/api/info");
  const missing = state.info.missing;
  if (missing.length) {
    $("missing").hidden = false;
    $("missing").innerHTML = `缺少 <span class="en">not found</span>: <b>${missing.join(", ")}</b>. ` +
      `训练它们 <span class="en">train them</span>: <code>${state.info.train_command}</code>`;
  }
  if (state.info.mixed.length) {  // checkpoints of different runs: said, never shown as one
    $("mixed").hidden = false;
    $("mixed").innerHTML = `这些检查点不是同一次运行 <span class="en">these checkpoints are not one run</span>: `;
    $("mixed").append(state.info.mixed.join("; "));  // as text: folder names are not HTML
  }
  const loaded = state.info.versions.filter((v) => v.loaded);
  fillSelect($("att-version"), loaded.filter((v) => v.heads > 0).map((v) => [v.version, `${v.version} ${v.concept}`]));
  fillSelect($("w-version"), loaded.map((v) => [v.version, `${v.version} ${v.concept}`]));
  $("w-version").value = loaded.length ? loaded[loaded.length - 1].version : "";
  fillSelect($("w-tune"), [["", "不限 (free)"], ...state.info.tunes.map((t) => [t.tune, `${t.tune} ${t.form}`])]);
  $("text").maxLength = state.info.limits.text;
  drawLegend();
  fillHeads();
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
  if (currentView() === "attention") await drawAttention();
  else await scoreText();
}

// ---- View 1, side by side: each version's probability of every character

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren("p:");
  for (const p of [1e-4, 1e-3, 1e-2, 1e-1, 1]) {
    const swatch = document.createElement("span");
    swatch.style.background = probabilityColour(p);
    legend.append(swatch, String(p));
  }
}

async function scoreText() {
  const text = $("text").value;
  if (!text) return;
  const ask = ++state.asked;
  const scored = await api("/api/score", { text });
  if (ask !== state.asked) return;  // a later request was made meanwhile: its answer is drawn, not this one
  state.scored = scored;
  const rows = $("compare-rows");
  rows.replaceChildren();
  for (const version of state.scored.versions) {
    const row = document.createElement("div");
    row.className = "version-row";
    row.dataset.version = version.version;
    const about = state.info.versions.find((v) => v.version === version.version);
    const name = document.createElement("div");
    name.className = "version-name";
    const loss = version.loss === null ? "—" : version.loss.toFixed(3);
    name.innerHTML = `<b>${version.version}</b> ${about.concept}<br>损失 <span class="en">loss</span> ` +
      `<span class="loss">${loss}</span> <span class="en">(${version.scored} chars)</span>`;
    const strip = document.createElement("div");
    strip.className = "strip";
    [...state.scored.text].forEach((ch, i) => {
      const span = charSpan(ch, "ch");
      span.dataset.index = i;
      const p = version.probs[i];
      if (version.unknown.includes(i)) {
        span.classList.add("unknown");
        span.title = "不在词表中 not in this version's vocabulary";
      } else if (p !== null) {
        span.dataset.p = p;
        span.style.background = probabilityColour(p);
        span.style.color = inkFor(p);
        span.title = `p = ${p.toPrecision(3)}`;
        span.tabIndex = 0;
      }
      span.addEventListener("mouseenter", () => showCandidates(i));
      span.addEventListener("focus", () => showCandidates(i));
      strip.append(span);  // no line breaks: the versions' rows stay short, one above the other
    });
    row.append(name, strip);
    rows.append(row);
  }
  $("candidates").replaceChildren();
}

function showCandidates(i) {
  const text = [...state.scored.text];
  document.querySelectorAll(".ch.current").forEach((s) => s.classList.remove("current"));
  document.querySelectorAll(`#compare-rows .ch[data-index="${i}"]`).forEach((s) => s.classList.add("current"));
  const panel = $("candidates");
  panel.replaceChildren();
  for (const version of state.scored.versions) {
    const table = document.createElement("table");
    table.dataset.version = version.version;
    table.createCaption().textContent = `${version.version}: ${text[i] === "\n" ? "⏎" : text[i]}`;
    const top = version.top[i];
    if (!top) {
      table.insertRow().insertCell().textContent = version.unknown.includes(i) ? "不在词表 not in vocabulary" : "—";
    } else {
      for (const [ch, p] of top) {
        const row = table.insertRow();
        if (ch === text[i]) row.className = "true";
        row.insertCell().textContent = ch === "\n" ? "⏎" : ch;
        row.insertCell().textContent = p.toFixed(3);
        row.insertCell().append(bar(p * 80));
      }
      if (!top.some(([ch]) => ch === text[i])) {
        const row = table.insertRow();
        row.className = "true";
        row.insertCell().textContent = text[i] === "\n" ? "⏎" : text[i];
        row.insertCell().textContent = version.probs[i].toFixed(4);
        row.insertCell().textContent = "(真 true)";
      }
    }
    panel.append(table);
  }
}

// ---- View 2, attention: one head's weights as a heat-map, and in the text

function fillHeads() {
  const about = state.info.versions.find((v) => v.version === $("att-version").value);
  if (!about) return;
  fillSelect($("att-layer"), [...Array(about.layers).keys()].map((l) => [l, String(l)]));
  fillSelect($("att-head"), [...Array(about.heads).keys()].map((h) => [h, String(h)]));
}

async function drawAttention() {
  const version = $("att-version").value;
  if (!version || !$("text").value) return;
  const ask = ++state.asked;
  const attention = await api("/api/attention", {
    text: $("text").value, version, layer: Number($("att-layer").value), head: Number($("att-head").value),
  });
  if (ask !== state.asked) return;  // a later request was made meanwhile
  state.attention = attention;
  const { chars, weights } = state.attention;
  const strip = $("att-text");
  strip.replaceChildren();
  chars.forEach((ch, i) => {
    const span = charSpan(ch, "att-char");
    span.dataset.index = i;
    span.tabIndex = 0;
    span.addEventListener("click", () => chooseQuery(i));
    span.addEventListener("focus", () => chooseQuery(i));
    appendText(strip, span, ch);
  });
  const cell = 18, margin = 24, size = margin + cell * chars.length;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.dataset.head = `${version}/${state.attention.layer}/${state.attention.head}`;  // which head it shows
  const label = (x, y, ch) => {
    const t = document.createElementNS(svgNS, "text");
    t.setAttribute("x", x);
    t.setAttribute("y", y);
    t.setAttribute("text-anchor", "middle");
    t.textContent = ch === "\n" ? "⏎" : ch;
    svg.append(t);
  };
  chars.forEach((ch, i) => {
    label(margin + cell * i + cell / 2, 16, ch);  // columns: what is looked at
    label(margin / 2, margin + cell * i + 13, ch);  // rows: who looks
    weights[i].forEach((w, j) => {
      const rect = document.createElementNS(svgNS, "rect");
      rect.setAttribute("class", "cell");
      rect.setAttribute("x", margin + cell * j);
      rect.setAttribute("y", margin + cell * i);
      rect.setAttribute("width", cell - 1);
      rect.setAttribute("height", cell - 1);
      rect.setAttribute("fill", weightColour(w));
      rect.dataset.row = i;
      rect.dataset.col = j;
      rect.dataset.w = w;
      const title = document.createElementNS(svgNS, "title");
      title.textContent = `${chars[i]} → ${chars[j]}: ${w.toFixed(3)}`;
      rect.append(title);
      rect.addEventListener("click", () => chooseQuery(i));
      svg.append(rect);
    });
  });
  $("att-map").replaceChildren(svg);
  chooseQuery(chars.length - 1);
}

function chooseQuery(i) {
  const row = state.attention.weights[i];
  document.querySelectorAll("#att-text .att-char").forEach((span, j) => {
    span.classList.toggle("chosen", j === i);
    span.style.background = j < row.length ? weightColour(row[j]) : "";
    span.title = j < row.length ? `${row[j].toFixed(3)}` : "";
  });
}

// ---- View 3, write: step by step, the candidates at each step

async function startWriting() {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  const request = {
    version: $("w-version").value, temperature: number("w-temperature"), top_k: number("w-top-k"),
    top_p: number("w-top-p"), seed: number("w-seed"),
  };
  if ($("w-tune").value) {
    request.tune = $("w-tune").value;
    request.acrostic = $("w-acrostic").value.trim();
  } else {
    request.prompt = $("w-prompt").value.replace(/\\n/g, "\n");
    request.length = number("w-length");
  }
  state.writing = await api("/api/write", request);
  state.shown = 0;
  $("w-step").disabled = $("w-all").disabled = false;
  drawWriting();
}

function reveal(count) {
  if (!state.writing) return;
  state.shown = Math.min(state.writing.steps.length, count);
  drawWriting();
}

function drawWriting() {
  const { prompt, steps } = state.writing;
  const strip = $("w-text");
  strip.replaceChildren();
  for (const ch of prompt.replace(/^\n+/, "")) appendText(strip, charSpan(ch, "ch prompt"), ch);
  steps.slice(0, state.shown).forEach((step, i) => {
    const span = charSpan(step.char, step.forced ? "ch forced" : "ch");
    span.title = step.forced ? "规则写的 written by the rules" : `log p = ${step.logprob.toFixed(2)}`;
    if (i === state.shown - 1) span.classList.add("current");
    appendText(strip, span, step.char);
  });
  const view = $("w-step-view");
  view.replaceChildren();
  if (state.shown > 0) {
    const step = steps[state.shown - 1];
    const table = document.createElement("table");
    table.createCaption().textContent = `第 ${state.shown} 步 step ${state.shown}/${steps.length}: ` +
      (step.forced ? `规则写 ${show(step.char)} (forced)` : `选了 chose ${show(step.char)}`);
    for (const [ch, p, drawable] of step.candidates) {
      const row = table.insertRow();
      const excluded = !drawable;  // by the form's mask, top-k or top-p (a forced step leaves one)
      row.className = (ch === step.char ? "chosen " : "") + (excluded ? "masked" : "");
      row.insertCell().textContent = show(ch);
      row.insertCell().textContent = p.toFixed(3);
      row.insertCell().append(bar(p * 120));
      row.insertCell().textContent = excluded ? "屏蔽 masked" : "";
    }
    if (!step.candidates.some(([ch]) => ch === step.char)) {  // chosen from beyond the ten likeliest
      const row = table.insertRow();
      row.className = "chosen";
      row.insertCell().textContent = show(step.char);
      row.insertCell().textContent = Math.exp(step.logprob).toFixed(4);
      row.insertCell();
      row.insertCell().textContent = "(不在前十 not in the ten)";
    }
    view.append(table);
  }
  drawResult(state.shown === steps.length);
}

function show(ch) {
  return ch === "\n" ? "⏎" : ch;
}

function drawResult(done) {
  const result = $("w-result");
  result.replaceChildren();
  if (!done) return;
  const { form, copy, mean_logprob } = state.writing;
  if (form) {
    const score = document.createElement("b");
    score.className = "form-score";
    score.textContent = form.score.toFixed(2);
    result.append(paragraph("格律分 form score ", score,
      ` (${form.tune} ${form.template}: ${Math.round(form.share * 100)}% of its ci)`));
  }
  if (copy) {
    const share = (x) => (x === null ? "—" : `${Math.round(x * 100)}%`);
    const longest = copy.longest.length >= 4 ? copy.longest : "—";
    result.append(paragraph(`抄袭检查 copy check: 4-gram ${share(copy["4-gram"])}, 8-gram ` +
      `${share(copy["8-gram"])}, 最长 longest copied run ${longest}`));
  }
  result.append(paragraph(`平均对数概率 mean log-probability ${mean_logprob.toFixed(2)}`));
}

function paragraph(...parts) {
  const p = document.createElement("p");
  p.append(...parts);  // text, not HTML: a written character can never become markup
  return p;
}

// ---- Tabs and buttons

function currentView() {
  return document.querySelector('nav [aria-selected="true"]').dataset.view;
}

function chooseView(view) {
  document.querySelectorAll("nav button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
  document.querySelectorAll(".view").forEach((section) => { section.hidden = section.id !== `view-${view}`; });
  $("text-box").hidden = view === "write";
  if (view !== "write") run(refresh);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => chooseView(b.dataset.view)));
  $("another").addEventListener("click", () => run(anotherCi));
  $("score").addEventListener("click", () => run(refresh));
  $("att-version").addEventListener("change", () => { fillHeads(); run(drawAttention); });
  $("att-layer").addEventListener("change", () => run(drawAttention));
  $("att-head").addEventListener("change", () => run(drawAttention));
  $("w-start").addEventListener("click", () => run(startWriting));
  $("w-step").addEventListener("click", () => reveal(state.shown + 1));
  $("w-all").addEventListener("click", () => reveal(Infinity));
  run(start);
});
