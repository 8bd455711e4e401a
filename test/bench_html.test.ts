// `bun run bench --html FILE` end to end on a tiny run (1 s, one scenario, one round): a
// comparison of the Warren the bench starts with a second Warren that calls itself "Other"
// (--product-name) writes one standalone page with an inline SVG chart per measure, Warren's
// bar beside the other broker's. No timing is asserted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

const PROJECT_ROOT = join(import.meta.dir, "..");
const scratch = mkdtempSync(join(tmpdir(), "warren-bench-html-"));
let other: BrokerProcess;

beforeAll(async () => {
  other = await startBroker({ args: ["--product-name", "Other"] });
});

afterAll(async () => {
  await other?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

async function bench(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(["bun", "run", "bench", "--duration", "1", "--scenario", "transient-1-1", ...args], { cwd: PROJECT_ROOT, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGINT"), 50_000);
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  return { code, stderr };
}

test("--compare --html: one page, a chart per measure with both brokers' bars, nothing external", async () => {
  const file = join(scratch, "compare.html");
  const run = await bench(["--compare", other.url, "--rounds", "1", "--html", file]);
  expect({ code: run.code, stderr: run.stderr.split("\n").filter((l) => l.includes("bench:")) }).toEqual({ code: 0, stderr: [] });
  const html = readFileSync(file, "utf8");
  expect(html).toStartWith("<!DOCTYPE html>");
  expect(html).toContain("<h2>transient-1-1 <span class=\"ratio\">");
  expect(html.match(/<svg /g)?.length).toBe(3); // headline rate, p99 latency, peak RSS
  // Each chart has Warren's bar and the other broker's.
  expect(html.match(/<rect /g)?.length).toBe(6);
  expect(html).toContain(">warren (median of 1)</text>");
  expect(html).toContain(">other (median of 1)</text>");
  expect(html).toContain("ok (lost 0, duplicated 0)");
  // Standalone: no scripts, no links, no URLs to fetch.
  expect(html).not.toMatch(/<script|<link|src=|href=|https?:\/\/(?!127\.0\.0\.1)/);
}, 60_000);

test("--html with a plain run: one bar per chart", async () => {
  const file = join(scratch, "run.html");
  const run = await bench(["--target", other.url, "--html", file]);
  expect(run.code).toBe(0);
  const html = readFileSync(file, "utf8");
  expect(html.match(/<rect /g)?.length).toBe(3);
  expect(html).toContain(">other</text>");
}, 60_000);

test("--html is refused with --ceiling", async () => {
  const run = await bench(["--ceiling", "--html", join(scratch, "x.html")]);
  expect(run.code).toBe(64);
  expect(run.stderr).toContain("--html writes runs and comparisons, not --ceiling");
});
