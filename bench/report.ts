// Results out: a text table (one row per scenario, or median/median/ratio rows in a comparison)
// and JSON lines. Violations of exactly-once are spelled out in the check column.
import { median } from "./stats.ts";
import type { ScenarioResult } from "./workload.ts";

const MIB = 1024 * 1024;

/** Counts that must all be zero in a correct run (redelivered and returned are only shown). */
const VIOLATIONS = ["lost", "duplicated", "reordered", "misrouted", "nacked", "unconfirmed", "foreign", "bogus_confirms"] as const;

export function violations(r: ScenarioResult): string {
  const parts = VIOLATIONS.filter((k) => r[k] !== 0).map((k) => `${k} ${r[k]}`);
  if (r.errors.length > 0) parts.push(`${r.errors.length} error${r.errors.length > 1 ? "s" : ""}`);
  return parts.length === 0 ? `ok (lost 0, duplicated 0)` : parts.join(", ");
}

const HEADERS = ["scenario", "broker", "headline", "published/s", "confirmed/s", "consumed/s", "p50 ms", "p99 ms", "max ms", "RSS MiB", "CPU s", "gen CPU s", "check"];

function row(r: ScenarioResult): string[] {
  return [
    r.scenario,
    r.broker,
    r.throughput_unit,
    count(r.published_per_s),
    count(r.confirmed_per_s),
    count(r.consumed_per_s),
    ms(r.latency_p50_ms),
    ms(r.latency_p99_ms),
    ms(r.latency_max_ms),
    r.broker_peak_rss_bytes === null ? "n/a" : (r.broker_peak_rss_bytes / MIB).toFixed(1),
    r.broker_cpu_s === null ? "n/a" : r.broker_cpu_s.toFixed(1),
    r.generator_cpu_s.toFixed(1),
    violations(r),
  ];
}

export function resultsTable(results: readonly ScenarioResult[]): string {
  return table(HEADERS, results.map(row)) + notes(results);
}

export interface Comparison {
  scenario: string;
  rounds: number;
  warren: ScenarioResult;
  other: ScenarioResult;
  /** Warren / other for each rate, latency and resource column (null where either is n/a or 0). */
  ratio: Record<string, number | null>;
}

const RATIO_FIELDS = ["throughput_per_s", "published_per_s", "confirmed_per_s", "consumed_per_s", "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "broker_peak_rss_bytes", "broker_cpu_s"] as const;

/** The median of each number over the rounds; counts of violations are summed, errors kept. */
function medianResult(rounds: readonly ScenarioResult[]): ScenarioResult {
  const first = rounds[0];
  if (first === undefined) throw new Error("no rounds");
  const med = (f: (r: ScenarioResult) => number | null) => median(rounds.map(f));
  const sum = (f: (r: ScenarioResult) => number) => rounds.reduce((n, r) => n + f(r), 0);
  const extra: Record<string, number> = {};
  for (const key of Object.keys(first.extra)) {
    const m = median(rounds.map((r) => r.extra[key] ?? null));
    if (m !== null) extra[key] = m;
  }
  return {
    ...first,
    broker: `${first.broker} (median of ${rounds.length})`,
    window_s: med((r) => r.window_s) ?? 0,
    published: sum((r) => r.published),
    confirmed: sum((r) => r.confirmed),
    consumed: sum((r) => r.consumed),
    published_per_s: med((r) => r.published_per_s) ?? 0,
    confirmed_per_s: med((r) => r.confirmed_per_s) ?? 0,
    consumed_per_s: med((r) => r.consumed_per_s) ?? 0,
    throughput_per_s: med((r) => r.throughput_per_s) ?? 0,
    latency_p50_ms: med((r) => r.latency_p50_ms),
    latency_p99_ms: med((r) => r.latency_p99_ms),
    latency_max_ms: med((r) => r.latency_max_ms),
    broker_peak_rss_bytes: med((r) => r.broker_peak_rss_bytes),
    broker_cpu_s: med((r) => r.broker_cpu_s),
    generator_cpu_s: med((r) => r.generator_cpu_s) ?? 0,
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    reordered: sum((r) => r.reordered),
    misrouted: sum((r) => r.misrouted),
    redelivered: sum((r) => r.redelivered),
    nacked: sum((r) => r.nacked),
    unconfirmed: sum((r) => r.unconfirmed),
    foreign: sum((r) => r.foreign),
    bogus_confirms: sum((r) => r.bogus_confirms),
    returned: sum((r) => r.returned),
    blocked: sum((r) => r.blocked),
    unblocked: sum((r) => r.unblocked),
    errors: rounds.flatMap((r) => r.errors),
    extra,
  };
}

export function compare(warrenRounds: readonly ScenarioResult[], otherRounds: readonly ScenarioResult[]): Comparison {
  const warren = medianResult(warrenRounds);
  const other = medianResult(otherRounds);
  const ratio: Record<string, number | null> = {};
  for (const f of RATIO_FIELDS) {
    const a = warren[f];
    const b = other[f];
    ratio[f] = a === null || b === null || b === 0 ? null : a / b;
  }
  return { scenario: warren.scenario, rounds: warrenRounds.length, warren, other, ratio };
}

export function comparisonTable(comparisons: readonly Comparison[]): string {
  const rows: string[][] = [];
  for (const c of comparisons) {
    rows.push(row(c.warren), row(c.other));
    const r = c.ratio;
    const x = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : `${v.toFixed(2)}x`);
    rows.push([
      "", "ratio W/other", x(r["throughput_per_s"]), x(r["published_per_s"]), x(r["confirmed_per_s"]), x(r["consumed_per_s"]),
      x(r["latency_p50_ms"]), x(r["latency_p99_ms"]), x(r["latency_max_ms"]), x(r["broker_peak_rss_bytes"]), x(r["broker_cpu_s"]), "", "",
    ]);
  }
  return table(HEADERS, rows) + notes(comparisons.flatMap((c) => [c.warren, c.other]));
}

export function jsonLine(value: unknown): string {
  return JSON.stringify(value);
}

/** Errors and scenario extras under the table, where a row has no room for them. */
function notes(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const extras = Object.entries(r.extra)
      .map(([k, v]) => `${k} ${k.endsWith("_bytes") ? `${(v / MIB).toFixed(1)} MiB` : count(v)}`);
    if (r.redelivered > 0) extras.push(`redelivered ${r.redelivered}`);
    if (r.returned > 0) extras.push(`returned ${r.returned}`);
    if (r.blocked > 0) extras.push(`connection.blocked ${r.blocked}, unblocked ${r.unblocked}`);
    if (extras.length > 0) lines.push(`  ${r.scenario} [${r.broker}]: ${extras.join(", ")}`);
    for (const e of r.errors) lines.push(`  ${r.scenario} [${r.broker}] ERROR: ${e}`);
  }
  return lines.length === 0 ? "" : `\n${lines.join("\n")}`;
}

function table(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i <= 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function ms(v: number | null): string {
  return v === null ? "n/a" : v < 10 ? v.toFixed(2) : v.toFixed(1);
}
