"use strict";
// What the explorer and the comparison page share: numbers as text, and the flow plot's
// fixed log axis.

const SVG = "http://www.w3.org/2000/svg";

function formatNumber(x) {
  if (x === null || x === undefined) return "-";
  if (x === 0) return "0";
  const size = Math.abs(x);
  return size >= 1e-3 && size < 1e4 ? x.toPrecision(3) : x.toExponential(1);
}

function svgElement(kind, attributes) {
  const element = document.createElementNS(SVG, kind);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  return element;
}

// Draws the axes of the flow plot (steps 0 to last; ||dL/dh|| on one fixed log axis, the
// same on every page and in every view, so that pages compare by eye: an RNN's gradient
// that dies by lag 30 sits far below an LSTM's that survives) and returns the maps from
// a step and a norm to the plot's x and y. Norms off the axis are drawn on its ends.
function flowAxes(svg, last) {
  const box = svg.viewBox.baseVal;
  const low = Number(svg.dataset.logMin);
  const high = Number(svg.dataset.logMax);
  const x = (step) => 40 + (box.width - 50) * step / Math.max(1, last);
  const y = (norm) => (box.height - 20) - (box.height - 35) *
    (Math.min(Math.max(Math.log10(norm), low), high) - low) / (high - low);
  for (let exponent = low; exponent <= high; exponent += 1) {
    const at = y(10 ** exponent);
    svg.appendChild(svgElement("line", { x1: 40, x2: box.width - 10, y1: at, y2: at,
      stroke: "#eee" }));
    if (exponent % 2 !== 0 && exponent !== high) continue;  // a label every 2 decades
    const label = svgElement("text", { x: 2, y: at + 3 });
    label.textContent = "1e" + exponent;
    svg.appendChild(label);
  }
  for (const [text, at] of [["t=0", 40], ["t=" + last, box.width - 20]]) {
    const label = svgElement("text", { x: at, y: box.height - 4 });
    label.textContent = text;
    svg.appendChild(label);
  }
  return { x, y, floor: 10 ** low };
}

// One step's point on the flow plot, with its number in a tooltip.
function flowPoint(axes, step, norm, at, colour) {
  const point = svgElement("circle", { class: "point", "data-step": step, "data-at": at,
    cx: axes.x(step), cy: axes.y(norm), r: 4, fill: colour });
  if (!(norm >= axes.floor)) point.classList.add("below");  // drawn on the floor
  const title = svgElement("title", {});
  title.textContent = "t=" + step + ": ||dL/dh|| " + formatNumber(norm) +
    (norm >= axes.floor ? "" : " (below the axis, drawn on its floor)");
  point.appendChild(title);
  return point;
}

let playTimer = null;

// The play button: runs the sweep from where the slider is (from the start, if at the end)
// to the end, ``show(k)`` at each tick; a second press pauses.
function togglePlay(total, show) {
  const button = document.getElementById("play");
  if (playTimer !== null) {
    clearInterval(playTimer);
    playTimer = null;
    button.textContent = "play";
    return;
  }
  const stride = Math.max(1, Math.ceil(total / 400));
  let k = Number(document.getElementById("sweep").value);
  if (k >= total) k = 0;
  button.textContent = "pause";
  playTimer = setInterval(() => {
    k = Math.min(total, k + stride);
    show(k);
    if (k >= total) togglePlay(total, show);
  }, 25);
}
