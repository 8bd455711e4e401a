// `--html FILE`: the results as one standalone HTML page, no scripts, no external assets. Per
// scenario, three small inline-SVG bar charts (headline rate, p99 latency, peak RSS) with Warren's
// bar beside the other broker's in a comparison, then the numbers and the exactly-once check.
import { violations, type Comparison } from "./report.ts";
import type { ScenarioResult } from "./workload.ts";

const MIB = 1024 * 1024;
const COLOURS = ["#d9480f", "#1c7ed6"];
const BAR_MAX_PX = 300;
const LABEL_PX = 190;
const BAR_PX = 22;

/** One scenario's bars: Warren first, the other broker second (when compared). */
interface Group {
  scenario: string;
  results: ScenarioResult[];
  /** Warren / other for the headline rate, when compared. */
  ratio: number | null;
}

interface Measure {
  title: (r: ScenarioResult) => string;
  value: (r: ScenarioResult) => number | null;
  format: (v: number) => string;
  /** "higher" when a longer bar is better. */
  better: "higher" | "lower";
}

const MEASURES: Measure[] = [
  { title: (r) => r.throughput_unit, value: (r) => r.throughput_per_s, format: (v) => `${Math.round(v).toLocaleString("en-US")}/s`, better: "higher" },
  { title: () => "p99 latency", value: (r) => r.latency_p99_ms, format: (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`, better: "lower" },
  { title: () => "peak broker RSS", value: (r) => r.broker_peak_rss_bytes, format: (v) => `${(v / MIB).toFixed(1)} MiB`, better: "lower" },
];

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Bars of one measure for one scenario, scaled to the larger value; null when no broker has it. */
function chart(group: Group, m: Measure): string | null {
  const values = group.results.map((r) => m.value(r));
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  if (values.every((v) => v === null)) return null;
  const bars = group.results.map((r, i) => {
    const v = values[i] ?? null;
    const y = 20 + i * (BAR_PX + 6);
    const width = v === null || max === 0 ? 0 : Math.max(1, Math.round((v / max) * BAR_MAX_PX));
    return `<text x="0" y="${y + 16}" font-size="13">${escape(r.broker)}</text>` +
      `<rect x="${LABEL_PX}" y="${y}" width="${width}" height="${BAR_PX}" fill="${COLOURS[i % COLOURS.length]}"/>` +
      `<text x="${LABEL_PX + width + 6}" y="${y + 16}" font-size="13">${v === null ? "n/a" : escape(m.format(v))}</text>`;
  });
  const height = 20 + group.results.length * (BAR_PX + 6);
  const title = `${escape(m.title(group.results[0]!))} (${m.better} is better)`;
  return `<svg width="${LABEL_PX + BAR_MAX_PX + 140}" height="${height}" role="img" aria-label="${title}">` +
    `<text x="0" y="13" font-size="13" font-weight="bold">${title}</text>${bars.join("")}</svg>`;
}

function section(group: Group): string {
  const charts = MEASURES.map((m) => chart(group, m)).filter((c) => c !== null);
  const rows = group.results.map((r) =>
    `<tr><td>${escape(r.broker)}</td><td>${Math.round(r.published_per_s).toLocaleString("en-US")}</td><td>${Math.round(r.consumed_per_s).toLocaleString("en-US")}</td>` +
    `<td>${r.latency_p50_ms?.toFixed(2) ?? "n/a"}</td><td>${r.latency_p99_ms?.toFixed(2) ?? "n/a"}</td><td>${escape(violations(r))}</td></tr>`);
  const ratio = group.ratio === null ? "" : ` <span class="ratio">${group.ratio.toFixed(2)}x</span>`;
  return `<section><h2>${escape(group.scenario)}${ratio}</h2>${charts.join("\n")}\n` +
    `<table><tr><th>broker</th><th>published/s</th><th>consumed/s</th><th>p50 ms</th><th>p99 ms</th><th>check</th></tr>${rows.join("")}</table></section>`;
}

/** The page for a comparison (`comparisons`) or a plain run (`results`); `header` is the run's description line. */
export function htmlReport(header: string, run: { comparisons: readonly Comparison[] } | { results: readonly ScenarioResult[] }): string {
  const groups: Group[] = "comparisons" in run
    ? run.comparisons.map((c) => ({ scenario: c.scenario, results: [c.warren, c.other], ratio: c.ratio["throughput_per_s"] ?? null }))
    : run.results.map((r) => ({ scenario: r.scenario, results: [r], ratio: null }));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Warren benchmark</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}section{margin-bottom:2em}svg{display:block;margin:.5em 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,td:last-child{text-align:left}
.ratio{font-weight:normal;color:#555}</style></head>
<body><h1>Warren benchmark</h1><p>${escape(header)}</p>
${"comparisons" in run ? "<p>Ratios after each scenario's name are Warren / the other broker for the headline rate.</p>\n" : ""}${groups.map(section).join("\n")}
</body></html>
`;
}
