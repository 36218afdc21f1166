// The comparison page. Python hands it one JSON document: for every setting of the knobs,
// which version of each row to show, and for each version how its boxes look as the
// sweep goes and its ||dL/dh_t||. This script only switches between them and works out
// the answers to the page's questions from those numbers.

const DATA = JSON.parse(document.getElementById("data").textContent);
const COLOURS = ["#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f"];
const LONGEST = Math.max(...DATA.variants.map((v) => v.sweep));

// ---- the knobs ---------------------------------------------------------------------------

function knobIndex(id) {
  return document.getElementById(id).selectedIndex;
}

// The versions of the rows for the knobs as set, except those in ``changed`` (id: option).
function shown(changed) {
  const key = DATA.knobs.map((knob) => (changed && knob.id in changed ? changed[knob.id]
    : knobIndex(knob.id))).join(",");
  return DATA.settings[key].map((index) => DATA.variants[index]);
}

function rowElements() {
  return [...document.querySelectorAll(".row[data-cell]")];
}

// ---- the rows and their sweeps -------------------------------------------------------------

// Every row's sweep runs together: at slider k of the longest sweep, a row whose sweep is
// n vertices long is at k * n / longest, so all of them reach t=0 at the end.
function sweptSoFar(variant, k) {
  return Math.round(k * variant.sweep / LONGEST);
}

function paint() {
  const k = Number(document.getElementById("sweep").value);
  document.getElementById("sweep-count").textContent = k === LONGEST ? "done"
    : Math.round(100 * k / LONGEST) + "%";
  const variants = shown();
  rowElements().forEach((row, r) => {
    const variant = variants[r];
    const at = sweptSoFar(variant, k);
    row.querySelector(".note").textContent = variant.note;
    for (const box of row.querySelectorAll(".box[data-scope]")) {
      let entry = null;
      for (const step of variant.reveal[box.dataset.scope] || []) {
        if (step[0] > at) break;
        entry = step;
      }
      box.classList.toggle("pending", entry === null);
      box.style.background = entry ? entry[2] : "";
      box.dataset.heat = entry ? String(entry[1]) : "";
      box.title = row.dataset.cell + ", " + box.dataset.scope + ": " +
        (entry ? "max ||g|| " + formatNumber(entry[1]) : "not reached yet");
    }
    const series = document.querySelector('#flow [data-series="' +
      CSS.escape(row.dataset.cell) + '"]');
    const reached = [];
    for (const point of series.querySelectorAll(".point")) {
      const done = Number(point.dataset.at) <= at;
      point.classList.toggle("pending", !done);
      if (done) reached.push(point.getAttribute("cx") + "," + point.getAttribute("cy"));
    }
    series.querySelector("polyline").setAttribute("points", reached.join(" "));
  });
}

function drawFlow() {
  const svg = document.getElementById("flow");
  svg.replaceChildren();
  const variants = shown();
  const last = Math.max(0, ...variants.flatMap((v) => v.flow.map((p) => p[0])));
  const axes = flowAxes(svg, last);
  const key = document.getElementById("series");
  key.replaceChildren();
  DATA.rows.forEach((row, r) => {
    const colour = COLOURS[r % COLOURS.length];
    const series = svgElement("g", { "data-series": row.name });
    series.appendChild(svgElement("polyline", { fill: "none", stroke: colour }));
    for (const [step, norm, at] of variants[r].flow) {
      series.appendChild(flowPoint(axes, step, norm, at, colour));
    }
    svg.appendChild(series);
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    item.append(swatch, row.name);
    key.appendChild(item);
  });
}

function refresh() {
  drawFlow();
  paint();
  answerAll();
}

// ---- one step across the rows ---------------------------------------------------------------

function highlightStep(scope, on) {
  for (const box of document.querySelectorAll('.box[data-scope="' + CSS.escape(scope) + '"]')) {
    box.classList.toggle("highlight", on);
  }
  const step = /^t=(\d+)$/.exec(scope);
  if (!step) return;
  for (const element of document.querySelectorAll('#flow [data-step="' + step[1] +
      '"], #strip [data-step="' + step[1] + '"]')) {
    element.classList.toggle("highlight", on);
  }
  if (on) describeStep(scope, Number(step[1]));
}

function describeStep(scope, step) {
  const variants = shown();
  const details = document.getElementById("details");
  details.replaceChildren();
  const table = document.createElement("table");
  const head = table.insertRow();
  for (const text of [scope, "||dL/dh||", "× to the step before"]) {
    head.insertCell().textContent = text;
  }
  DATA.rows.forEach((row, r) => {
    const point = variants[r].flow.find((p) => p[0] === step);
    const factor = variants[r].factors[scope];
    const line = table.insertRow();
    line.insertCell().textContent = row.name;
    line.insertCell().textContent = formatNumber(point ? point[1] : null);
    line.insertCell().textContent = factor === undefined ? "-" : "×" + formatNumber(factor);
  });
  details.appendChild(table);
}

// ---- the questions, answered from the page's own numbers ------------------------------------

function normAt(variant, step) {
  const point = variant.flow.find((p) => p[0] === step);
  return point ? point[1] : null;
}

// The factor by which ||dL/dh|| shrinks per step back in time: exp of the slope of a
// least-squares line through log(norm) against the lag (as lstm.analysis.decay_per_step).
function decayPerStep(variant) {
  const last = Math.max(...variant.flow.map((p) => p[0]));
  const points = variant.flow.filter((p) => p[1] > 1e-300)
    .map((p) => [last - p[0], Math.log(p[1])]);
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return Math.exp(sxy / sxx);
}

function knobOf(id) {
  return DATA.knobs.find((knob) => knob.id === id);
}

function rowIndex(name) {
  return DATA.rows.findIndex((row) => row.name === name);
}

// The other knobs as set, in words: what an answer holds for.
function otherKnobs(id) {
  const others = DATA.knobs.filter((knob) => knob.id !== id)
    .map((knob) => knob.label + " " + knob.options[knobIndex(knob.id)]);
  return others.length ? " (" + others.join(", ") + ")" : "";
}

function eachOption(question, measure) {
  const knob = knobOf(question.knob);
  return knob.options.map((option, index) => ({ option, index,
    value: measure(shown({ [knob.id]: index })) }));
}

function byOption(found) {
  return Object.fromEntries(found.map((f) => [f.option, f.value]));
}

// Each kind of question: its answer (the option it names, or ""), the answer in words,
// and the numbers it read (``data-numbers``, for whoever wants to check them).
const ANSWERS = {
  "first-above"(question) {
    const r = rowIndex(question.row);
    const knob = knobOf(question.knob);
    const found = eachOption(question, (variants) => normAt(variants[r], question.step));
    const first = found.find((f) => f.value !== null && f.value > question.above);
    const all = found.map((f) => knob.label + " " + f.option + ": " + formatNumber(f.value))
      .join("; ");
    const text = first ? "At " + knob.label + " " + first.option + ", " + question.row +
      "'s ||dL/dh_" + question.step + "|| is " + formatNumber(first.value) + ", above " +
      formatNumber(question.above) : "At none of these options does it pass " +
      formatNumber(question.above);
    return [first ? first.option : "", text + otherKnobs(knob.id) + ". All of them: " + all +
      ".", byOption(found)];
  },
  "first-growing"(question) {
    const r = rowIndex(question.row);
    const knob = knobOf(question.knob);
    const found = eachOption(question, (variants) => decayPerStep(variants[r]));
    const first = found.find((f) => f.value !== null && f.value > 1);
    const all = found.map((f) => knob.label + " " + f.option + ": ×" + formatNumber(f.value))
      .join("; ");
    const text = first ? "At " + knob.label + " " + first.option + ", " + question.row +
      "'s gradient grows ×" + formatNumber(first.value) + " per step going back: it " +
      "explodes instead of vanishing" : "At none of these options: it shrinks at every one";
    return [first ? first.option : "", text + otherKnobs(knob.id) + ". Per step, fitted: " +
      all + ".", byOption(found)];
  },
  decay(question) {
    const knob = knobOf(question.knob);
    const found = eachOption(question, (variants) => variants);
    const lines = DATA.rows.map((row, r) => row.name + ": " + found.map((f) => {
      const variant = f.value[r];
      return "×" + formatNumber(decayPerStep(variant)) + " per step " + f.option +
        (variant.note ? " (" + variant.note + ")" : "");
    }).join(", "));
    const numbers = Object.fromEntries(DATA.rows.map((row, r) => [row.name,
      byOption(found.map((f) => ({ option: f.option, value: decayPerStep(f.value[r]) })))]));
    return ["", "The fitted factor per step back, " + knob.label + " " +
      knob.options.join(" → ") + otherKnobs(knob.id) + ": " + lines.join("; ") + ".", numbers];
  },
};

function answerAll() {
  for (const question of DATA.questions) {
    const element = document.querySelector('[data-answer="' + CSS.escape(question.id) + '"]');
    const [value, text, numbers] = ANSWERS[question.kind](question);
    element.dataset.value = value;
    element.dataset.numbers = JSON.stringify(numbers);
    element.textContent = text;
  }
}

// ---- wiring ----------------------------------------------------------------------------

function wire() {
  for (const knob of DATA.knobs) {
    document.getElementById(knob.id).addEventListener("change", refresh);
  }
  for (const box of document.querySelectorAll(".row .box[data-scope]")) {
    for (const [kind, on] of [["mouseenter", true], ["mouseleave", false], ["focus", true],
      ["blur", false]]) {
      box.addEventListener(kind, () => highlightStep(box.dataset.scope, on));
    }
  }
  const flow = document.getElementById("flow");
  flow.addEventListener("mouseover", (event) => {
    const point = event.target.closest("[data-step]");
    if (point) highlightStep("t=" + point.dataset.step, true);
  });
  flow.addEventListener("mouseout", (event) => {
    const point = event.target.closest("[data-step]");
    if (point) highlightStep("t=" + point.dataset.step, false);
  });
  const slider = document.getElementById("sweep");
  slider.max = String(LONGEST);
  slider.value = String(LONGEST);
  slider.addEventListener("input", paint);
  document.getElementById("play").addEventListener("click", () => togglePlay(LONGEST, (k) => {
    slider.value = String(k);
    paint();
  }));
}

wire();
refresh();
