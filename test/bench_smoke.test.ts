// `bun run bench` end to end, scaled down: it starts its own Warren, runs every scenario for 2 s
// (backlog and prefill at 20,000 messages; the opt-in flood-publish-only in a second run, flooding
// for 2 s into a Warren whose memory watermark the flood passes; the opt-in long backlogs in a
// third, at 20,000 messages, restarting the broker in between) and reports JSON lines. Each scenario must have moved
// messages and counted them exactly: nothing lost, duplicated, reordered or misrouted. No timing
// is asserted: this machine's speed is not the point, the generator's correctness is.
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { SCENARIOS } from "../bench/scenarios.ts";
import type { ScenarioResult } from "../bench/workload.ts";

const PROJECT_ROOT = join(import.meta.dir, "..");
/** The three runs: 18 scenarios of 2 s, plus setup, drains and a restart. */
const RUN_TIMEOUT_MS = 180_000;

const results = new Map<string, ScenarioResult>();
let stderr = "";

async function bench(args: string[], timeout_ms: number): Promise<void> {
  const proc = Bun.spawn(["bun", "run", "bench", "--duration", "2", "--json", ...args], {
    cwd: PROJECT_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill("SIGINT"), timeout_ms);
  const [stdout, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(killer);
  stderr += err;
  await proc.exited;
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line) as ScenarioResult & { kind: string };
    if (r.kind === "run") results.set(r.scenario, r);
  }
}

beforeAll(async () => {
  await bench(["--backlog", "20000", "--prefill", "20000"], RUN_TIMEOUT_MS - 70_000);
  await bench(["--scenario", "flood-publish-only", "--flood", "2", "--warren-arg=--vm-memory-high-watermark=256MiB"], 30_000);
  await bench(["--scenario", "backlog-100m,backlog-10m-transient", "--long-backlog", "20000"], 30_000);
}, RUN_TIMEOUT_MS);

test("backlog-100m restarts the broker it started and reports recovery and disk figures", () => {
  const extra = results.get("backlog-100m")?.extra ?? {};
  for (const key of ["backlog_rss_bytes", "settled_rss_bytes", "disk_bytes", "restart_port_ms", "first_delivery_ms", "restarted_rss_bytes"]) {
    expect(extra[key]).toBeGreaterThan(0);
  }
  expect(extra["queued"]).toBe(20_000);
});

for (const scenario of SCENARIOS) {
  test(`${scenario.name}: throughput > 0, lost 0, duplicated 0`, () => {
    const r = results.get(scenario.name);
    if (r === undefined) throw new Error(`no result for ${scenario.name}; bench stderr:\n${stderr.slice(-4000)}`);
    expect(r.errors).toEqual([]);
    expect(r.throughput_per_s).toBeGreaterThan(0);
    expect(r.published).toBeGreaterThan(0);
    expect({ lost: r.lost, duplicated: r.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect({ reordered: r.reordered, misrouted: r.misrouted, foreign: r.foreign, nacked: r.nacked, unconfirmed: r.unconfirmed, bogus_confirms: r.bogus_confirms })
      .toEqual({ reordered: 0, misrouted: 0, foreign: 0, nacked: 0, unconfirmed: 0, bogus_confirms: 0 });
  });
}
