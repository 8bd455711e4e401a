// A time-series line chart drawn on a <canvas>, with a legend that shows each series' latest
// value. The page keeps the samples; draw() paints whatever window it is given.
import { h } from "./ui.js";

const WIDTH = 560;
const HEIGHT = 180;
const PAD = { left: 64, right: 12, top: 10, bottom: 24 };

/** series: [{label, color}]; format(n) writes a value (axis and legend). */
export function lineChart({ title, series, format }) {
  const canvas = h("canvas", { width: WIDTH, height: HEIGHT, className: "chart", "aria-label": title, role: "img" });
  const legend = h("ul", { className: "legend" });
  const values = series.map((s) => {
    const value = h("b", { dataset: { series: s.label } }, "");
    legend.append(h("li", {}, h("i", { style: `background:${s.color}` }), `${s.label} `, value));
    return value;
  });
  const el = h("figure", { className: "chart-box" }, h("figcaption", {}, title), canvas, legend);

  /** samples: [{t: ms, values: [number per series]}], oldest first. */
  function draw(samples) {
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== WIDTH * ratio) {
      canvas.width = WIDTH * ratio;
      canvas.height = HEIGHT * ratio;
      canvas.style.width = `${WIDTH}px`;
      canvas.style.height = `${HEIGHT}px`;
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, WIDTH, HEIGHT);
    const last = samples[samples.length - 1];
    series.forEach((_, i) => (values[i].textContent = last ? format(last.values[i]) : ""));
    const plotW = WIDTH - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    let max = 0;
    for (const s of samples) for (const v of s.values) max = Math.max(max, v);
    max = niceCeiling(max);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#6b7280";
    g.strokeStyle = "#e5e7eb";
    g.lineWidth = 1;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = PAD.top + plotH - (plotH * i) / 4;
      g.beginPath();
      g.moveTo(PAD.left, Math.round(y) + 0.5);
      g.lineTo(WIDTH - PAD.right, Math.round(y) + 0.5);
      g.stroke();
      g.fillText(format((max * i) / 4), PAD.left - 6, y);
    }
    if (samples.length === 0) {
      g.textAlign = "center";
      g.fillText("waiting for data…", PAD.left + plotW / 2, PAD.top + plotH / 2);
      return;
    }
    const t1 = last.t;
    const t0 = Math.min(samples[0].t, t1 - 60_000);
    const x = (t) => PAD.left + (plotW * (t - t0)) / Math.max(1, t1 - t0);
    const y = (v) => PAD.top + plotH - (plotH * v) / max;
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const t of [t0, (t0 + t1) / 2, t1]) g.fillText(new Date(t).toLocaleTimeString("en-GB"), Math.min(Math.max(x(t), PAD.left + 24), WIDTH - PAD.right - 24), PAD.top + plotH + 6);
    series.forEach((s, i) => {
      g.strokeStyle = s.color;
      g.lineWidth = 2;
      g.beginPath();
      samples.forEach((sample, j) => (j === 0 ? g.moveTo(x(sample.t), y(sample.values[i])) : g.lineTo(x(sample.t), y(sample.values[i]))));
      g.stroke();
    });
  }

  return { el, draw };
}

/** 1, 2, 5 × 10^n at or above n (at least 1), so the axis reads in round numbers. */
function niceCeiling(n) {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (n <= m * p) return m * p;
  return 10 * p;
}
