// The explorer page. Python hands it one JSON document (the graph, the engine's sweep
// order, the gradient norms per view); this script only draws it and reacts to clicks.

const DATA = JSON.parse(document.getElementById("data").textContent);
const VERTICES = new Map(DATA.vertices.map((v) => [v.id, v]));
let viewIndex = 0;

function view() {
  return DATA.views[viewIndex];
}

function vertexElement(id) {
  return document.getElementById(id);
}

// ---- colours of a view ----------------------------------------------------------------

function paintVertices() {
  const current = view();
  for (const [id, colours] of Object.entries(current.fills)) {
    const element = vertexElement(id);
    if (!element) continue;
    const shape = element.querySelector("polygon, ellipse, path");
    if (shape) shape.setAttribute("fill", colours[0]);
    for (const text of element.querySelectorAll("text")) text.setAttribute("fill", colours[1]);
    const norm = element.querySelector(".gnorm");
    const grad = current.stats[id] && current.stats[id].grad;
    if (norm) norm.textContent = "||g|| " + formatNumber(grad ? grad.norm : null);
  }
}

// A box shows what the sweep has reached so far: grey while pending, then the heat of
// the largest gradient among its vertices swept, so the colours arrive going back in time.
function paintBoxes(k) {
  for (const box of document.querySelectorAll(".box[data-scope]")) {
    let shown = null;
    for (const entry of view().units[box.dataset.scope].reveal) {
      if (entry[0] > k) break;
      shown = entry;
    }
    box.classList.toggle("pending", shown === null);
    box.style.background = shown ? shown[2] : "";
    box.style.color = shown ? shown[3] : "";
    box.dataset.heat = shown ? String(shown[1]) : "";
    box.querySelector(".max").textContent = shown ? "max ||g|| " + formatNumber(shown[1])
      : "not reached yet";
  }
}

// The flow plot grows point by point: a step's point appears once its h is swept. The
// link from step K-1 to step K shows the factor the gradient was multiplied by on its
// way back across it, once both ends are swept.
function revealFlow(k) {
  const svg = document.getElementById("flow");
  const reached = [];
  const swept = new Set();
  for (const point of svg.querySelectorAll(".point")) {
    const done = Number(point.dataset.at) <= k;
    point.classList.toggle("pending", !done);
    if (done) {
      reached.push([Number(point.dataset.step), point]);
      swept.add(Number(point.dataset.step));
    }
  }
  for (const link of document.querySelectorAll(".link[data-link]")) {
    const step = Number(link.dataset.link.slice(2));
    const factor = view().factors[link.dataset.link];
    const shown = swept.has(step) && swept.has(step - 1) && factor !== undefined;
    link.dataset.factor = factor === null || factor === undefined ? "" : String(factor);
    link.textContent = shown ? "×" + formatNumber(factor) : "→";
    link.classList.toggle("factor", shown);
  }
  reached.sort((a, b) => a[0] - b[0]);
  const line = svg.querySelector("polyline");
  if (line) {
    line.setAttribute("points", reached.map(([, p]) => p.getAttribute("cx") + "," +
      p.getAttribute("cy")).join(" "));
  }
}

function applyView(index) {
  viewIndex = index;
  paintVertices();
  drawFlow();
  setSweep(Number(document.getElementById("sweep").value));
}

// ---- the backward sweep -----------------------------------------------------------------

function setSweep(k) {
  const order = view().sweep;
  const slider = document.getElementById("sweep");
  slider.value = String(k);
  document.getElementById("sweep-count").textContent = k + " / " + order.length;
  for (const element of document.querySelectorAll(".vertex.done, .vertex.current")) {
    element.classList.remove("done", "current");
  }
  paintBoxes(k);
  revealFlow(k);
  for (const element of document.querySelectorAll(".edge.flow, .link.flow, .box.active")) {
    element.classList.remove("flow", "active");
  }
  const done = new Map();
  for (let i = 0; i < order.length; i += 1) {
    const element = vertexElement(order[i]);
    element.classList.toggle("pending", i >= k);  // grey until the sweep reaches it
    if (i >= k) continue;
    element.classList.add("done");
    const unit = VERTICES.get(order[i]).unit;
    done.set(unit, (done.get(unit) || 0) + 1);
  }
  for (const box of document.querySelectorAll(".box[data-scope]")) {
    const total = view().units[box.dataset.scope].visited;
    const fraction = total ? (done.get(box.dataset.scope) || 0) / total : 0;
    box.querySelector(".progress").style.width = (100 * fraction).toFixed(1) + "%";
  }
  if (k > 0) markCurrent(order[k - 1]);
}

function markCurrent(id) {
  const vertex = VERTICES.get(id);
  vertexElement(id).classList.add("current");
  const box = document.querySelector('.box[data-scope="' + CSS.escape(vertex.unit) + '"]');
  if (box) box.classList.add("active");
  // the gradient of the current vertex flows along the edges to its inputs
  for (const input of vertex.inputs) {
    const edge = document.getElementById("e" + input.slice(1) + "_" + id.slice(1));
    if (edge) edge.classList.add("flow");
    const from = VERTICES.get(input).unit;
    if (from !== vertex.unit) {
      const link = document.querySelector('.link[data-to="' + CSS.escape(vertex.unit) + '"]');
      if (link) link.classList.add("flow");
    }
  }
}

// ---- steps open and closed ---------------------------------------------------------------

// An opened step's ops show in the drawer below the steps: the box clicked stays where it
// was, and the ops, scaled to the column, never draw over the side panel.
function opsOf(box) {
  return document.querySelector('#drawer .ops[data-unit="' + CSS.escape(box.dataset.scope) +
    '"]');
}

function setOpen(box, open) {
  const ops = opsOf(box);
  ops.hidden = !open;
  box.classList.toggle("open", open);
  box.setAttribute("aria-expanded", String(open));
}

function setAllOpen(open) {
  for (const box of document.querySelectorAll(".box[data-scope]")) setOpen(box, open);
}

// ---- details of one vertex ---------------------------------------------------------------

function row(table, label, value) {
  const tr = table.insertRow();
  tr.insertCell().textContent = label;
  const cell = tr.insertCell();
  if (value instanceof Node) cell.appendChild(value);
  else cell.textContent = value;
}

function histogram(counts) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "hist");
  svg.setAttribute("width", "120");
  svg.setAttribute("height", "24");
  const top = Math.max(1, ...counts);
  counts.forEach((count, i) => {
    const bar = document.createElementNS(SVG, "rect");
    const height = 22 * count / top;
    bar.setAttribute("x", String(i * 15));
    bar.setAttribute("y", String(23 - height));
    bar.setAttribute("width", "13");
    bar.setAttribute("height", String(height));
    bar.setAttribute("fill", "#1f77b4");
    svg.appendChild(bar);
  });
  return svg;
}

function summary(stats, missing) {
  if (!stats) return missing;
  return "norm " + formatNumber(stats.norm) + ", mean " + formatNumber(stats.mean) +
    ", min " + formatNumber(stats.min) + ", max " + formatNumber(stats.max);
}

function showDetails(id) {
  for (const element of document.querySelectorAll(".vertex.selected")) {
    element.classList.remove("selected");
  }
  vertexElement(id).classList.add("selected");
  const vertex = VERTICES.get(id);
  const stats = view().stats[id] || {};
  const details = document.getElementById("details");
  details.replaceChildren();
  const table = document.createElement("table");
  const meaning = vertex.name === null ? null : DATA.glossary[vertex.name];
  if (meaning) row(table, "what it is", meaning[0]);
  row(table, "op", vertex.op || "an input (no op)");
  row(table, "name", vertex.name === null ? "-" : vertex.name);
  row(table, "scope", vertex.scope || "-");
  row(table, "shape", "(" + vertex.shape.join(", ") + (vertex.shape.length === 1 ? ",)" : ")"));
  row(table, "dtype", vertex.dtype);
  row(table, "value", summary(stats.data, "not stored: the backward sweep never reads it"));
  if (stats.data) row(table, "", histogram(stats.data.hist));
  row(table, "gradient", summary(stats.grad, "none: the loss's gradient never flows here"));
  if (stats.grad) row(table, "", histogram(stats.grad.hist));
  if (stats.grad && stats.grad.norm === 0) {
    row(table, "why 0", meaning && meaning[1] ? meaning[1]
      : "exactly 0: at this point the loss does not change when this value changes");
  }
  const position = view().sweep.indexOf(id);
  row(table, "sweep", position < 0 ? "not reached: no gradient flows here"
    : "reached " + (position + 1) + " of " + view().sweep.length);
  details.appendChild(table);
}

// ---- the flow plot, linked to the steps -----------------------------------------------

function drawFlow() {
  const svg = document.getElementById("flow");
  svg.replaceChildren();
  const points = view().flow;
  if (!points.length) return;
  const axes = flowAxes(svg, points[points.length - 1][0]);
  svg.appendChild(svgElement("polyline", { fill: "none", stroke: "#1f77b4",
    points: points.map((p) => axes.x(p[0]) + "," + axes.y(p[1])).join(" ") }));
  for (const [step, norm, at] of points) {
    svg.appendChild(flowPoint(axes, step, norm, at, "#1f77b4"));
  }
}

function highlightStep(step, on) {
  const box = document.querySelector('.box[data-scope="t=' + step + '"]');
  if (box) box.classList.toggle("highlight", on);
  const point = document.querySelector('#flow [data-step="' + step + '"]');
  if (point) point.classList.toggle("highlight", on);
}

function stepOf(box) {
  const match = /^t=(\d+)$/.exec(box.dataset.scope);
  return match ? match[1] : null;
}

// ---- the cell-state path ---------------------------------------------------------------

function highlightPath(on) {
  for (const id of DATA.cpath.vertices) vertexElement(id).classList.toggle("cpath", on);
  for (const [from, to] of DATA.cpath.edges) {
    const edge = document.getElementById("e" + from.slice(1) + "_" + to.slice(1));
    if (edge) edge.classList.toggle("cpath", on);
  }
  for (const link of document.querySelectorAll(".link")) {
    if (DATA.cpath.links.includes(link.dataset.to)) link.classList.toggle("cpath", on);
  }
}

// ---- wiring ----------------------------------------------------------------------------

function wire() {
  const graph = document.getElementById("graph");
  graph.addEventListener("click", (event) => {
    const box = event.target.closest(".box[data-scope]");
    if (box) {
      setOpen(box, opsOf(box).hidden);
      return;
    }
    const vertex = event.target.closest(".vertex");
    if (vertex) showDetails(vertex.id);
  });
  for (const box of document.querySelectorAll(".box[data-scope]")) {
    const step = stepOf(box);
    if (step === null) continue;
    box.addEventListener("mouseenter", () => highlightStep(step, true));
    box.addEventListener("mouseleave", () => highlightStep(step, false));
  }
  const flow = document.getElementById("flow");
  for (const kind of ["mouseover", "click"]) {
    flow.addEventListener(kind, (event) => {
      const point = event.target.closest("[data-step]");
      if (!point) return;
      for (const lit of document.querySelectorAll(".highlight")) lit.classList.remove("highlight");
      highlightStep(point.dataset.step, true);
    });
  }
  flow.addEventListener("mouseout", (event) => {
    const point = event.target.closest("[data-step]");
    if (point) highlightStep(point.dataset.step, false);
  });
  document.getElementById("sweep").addEventListener("input", (event) => {
    setSweep(Number(event.target.value));
  });
  document.getElementById("play").addEventListener("click",
    () => togglePlay(view().sweep.length, setSweep));
  document.getElementById("expand-all").addEventListener("click", () => setAllOpen(true));
  document.getElementById("collapse-all").addEventListener("click", () => setAllOpen(false));
  for (const radio of document.querySelectorAll('input[name="view"]')) {
    radio.addEventListener("change", () => applyView(Number(radio.value)));
  }
  const path = document.getElementById("cpath");
  if (path) path.addEventListener("change", () => highlightPath(path.checked));
}

wire();
applyView(0);
