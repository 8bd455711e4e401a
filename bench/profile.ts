// Where Warren's time goes under one scenario, per thread. `bun --cpu-prof` (Bun 1.4.5) profiles
// the main thread only, and perf sees no JS names in a stripped bun, so this runs Warren under
// JavaScriptCore's sampling profiler (bun:jsc profile()) in every thread: the acceptor, and each
// shard worker through profile_worker.ts (Worker is swapped for one that starts that wrapper; no
// Warren code changes). Then it runs the scenario, stops the profilers (SIGUSR2) and prints the
// hottest functions of each thread by self and inclusive samples.
//
//   bun bench/profile.ts --scenario transient-1-1 [--duration 10] [--out DIR] [--top 25]
//
// Internally `bun bench/profile.ts --serve OUT -- <server args>` is the profiled Warren.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { profile, type SamplingProfile } from "bun:jsc";
import { parseAmqpUrl } from "./amqp_client.ts";
import { resultsTable } from "./report.ts";
import { defaultScenarioOptions, findScenarios } from "./scenarios.ts";
import { listeningPid } from "./stats.ts";
import { freePort } from "./warren_process.ts";

const PROJECT_ROOT = join(import.meta.dir, "..");
const WARREN_MAIN = join(PROJECT_ROOT, "src", "main.ts");
const START_TIMEOUT_MS = 30_000;
/** Writing a profile of a few seconds of samples takes well under this. */
const WRITE_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const DEFAULT_INTERVAL_US = 1000;
const DEFAULT_TOP = 25;

interface ProfileSummary {
  thread: string;
  interval_s: number;
  samples: number;
  /** Samples whose innermost frame is the function ("name file"), most first. */
  self: [string, number][];
  /** Samples with the function anywhere on the stack, most first. */
  inclusive: [string, number][];
  /** Samples whose innermost frame is this line ("name file:line"). */
  lines: [string, number][];
  /** Samples in a native function, by the JS line that called it ("native <- name file:line"). */
  nativeCallers: [string, number][];
}

/** Summarizes a sampling profile into out (and keeps the raw stack traces beside it). */
export function writeProfile(out: string, samples: SamplingProfile): void {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const lines = new Map<string, number>();
  const nativeCallers = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const where = (f: { name: string; sourceURL?: string }) => {
    const file = f.sourceURL === undefined ? "(native)" : f.sourceURL.startsWith("/") ? relative(PROJECT_ROOT, f.sourceURL) : f.sourceURL;
    return `${f.name === "" ? "(anonymous)" : f.name} ${file}`;
  };
  const traces = samples.stackTraces.traces;
  for (const t of traces) {
    const top = t.frames[0];
    if (top === undefined) continue;
    bump(self, where(top));
    const at = (f: typeof top) => `${where(f)}:${f.line === 4294967295 ? "?" : f.line}`;
    bump(lines, at(top));
    const caller = t.frames.find((f) => f.sourceURL !== undefined);
    if (top.sourceURL === undefined && caller !== undefined) bump(nativeCallers, `${top.name} <- ${at(caller)}`);
    for (const k of new Set(t.frames.map(where))) bump(inclusive, k);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const summary: ProfileSummary = {
    thread: out.replace(/^.*\//, "").replace(/\.json$/, ""),
    interval_s: samples.stackTraces.interval,
    samples: traces.length,
    self: sorted(self),
    inclusive: sorted(inclusive),
    lines: sorted(lines),
    nativeCallers: sorted(nativeCallers),
  };
  writeFileSync(`${out}.tmp`, JSON.stringify(summary));
  writeFileSync(out.replace(/\.json$/, ".traces.json"), JSON.stringify(samples.stackTraces));
  writeFileSync(`${out}.bytecodes.txt`, samples.bytecodes);
  // Renamed last, so a reader that sees out sees it whole.
  renameSync(`${out}.tmp`, out);
}

/** The profiled Warren: every Worker becomes a profiled one, and the acceptor runs under profile(). */
async function serve(outDir: string, warrenArgs: string[], interval_us: number): Promise<void> {
  const RealWorker = globalThis.Worker;
  const workers: Worker[] = [];
  const files: string[] = [];
  (globalThis as { Worker: typeof Worker }).Worker = class ProfiledWorker extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      const out = join(outDir, `shard-${files.length}.json`);
      files.push(out);
      super(new URL("./profile_worker.ts", import.meta.url), {
        ...options,
        env: { ...process.env, WARREN_PROFILE_TARGET: String(url), WARREN_PROFILE_OUT: out, WARREN_PROFILE_INTERVAL_US: String(interval_us) },
      });
      workers.push(this);
    }
  };
  process.argv = [process.argv[0]!, WARREN_MAIN, ...warrenArgs];
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.on("SIGUSR2", () => {
    for (const w of workers) w.postMessage({ profileStop: true });
    stop();
  });
  const samples = await profile(async () => {
    await import(WARREN_MAIN);
    await stopped;
  }, interval_us);
  const deadline = Date.now() + WRITE_TIMEOUT_MS;
  while (!files.every((f) => existsSync(f)) && Date.now() < deadline) await Bun.sleep(50);
  writeProfile(join(outDir, "acceptor.json"), samples);
}

function printSummary(s: ProfileSummary, top: number): string {
  const pct = (n: number) => `${((100 * n) / Math.max(1, s.samples)).toFixed(1).padStart(5)}%`;
  const list = (rows: [string, number][]) => rows.slice(0, top).map(([k, n]) => `  ${String(n).padStart(6)} ${pct(n)}  ${k}`).join("\n");
  return `== ${s.thread}: ${s.samples} samples at ${(s.interval_s * 1e3).toFixed(2)} ms (≈ ${(s.samples * s.interval_s).toFixed(1)} s of JS on the thread)\n` +
    `-- self, by function\n${list(s.self)}\n-- self, by line\n${list(s.lines)}\n-- native time by calling JS line\n${list(s.nativeCallers)}\n` +
    `-- inclusive, by function\n${list(s.inclusive)}\n`;
}

async function cli(argv: readonly string[]): Promise<number> {
  let scenarioName = "";
  let duration_s = 10;
  let outDir = "";
  let top = DEFAULT_TOP;
  let interval_us = DEFAULT_INTERVAL_US;
  const warrenArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--scenario") scenarioName = value();
    else if (arg === "--duration") duration_s = Number(value());
    else if (arg === "--out") outDir = value();
    else if (arg === "--top") top = Number(value());
    else if (arg === "--interval-us") interval_us = Number(value());
    else if (arg === "--warren-arg") warrenArgs.push(value());
    else throw new Error(`unknown option ${arg}\nusage: bun bench/profile.ts --scenario NAME [--duration S] [--out DIR] [--top N] [--interval-us N] [--warren-arg ARG]...`);
  }
  const [scenario] = findScenarios([scenarioName]);
  if (scenario === undefined || !(duration_s > 0) || !(top > 0) || !(interval_us > 0)) throw new Error("need --scenario NAME and positive numbers");
  if (outDir === "") outDir = mkdtempSync(join(tmpdir(), `warren-profile-${scenario.name}-`));
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), "warren-profile-data-"));
  const port = await freePort();
  const proc = Bun.spawn(["bun", import.meta.path, "--serve", outDir, String(interval_us), "--",
    "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--mgmt-port", "0", "--prometheus-port", "0", ...warrenArgs],
  { cwd: PROJECT_ROOT, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let log = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) log += decoder.decode(chunk);
  })();
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!log.includes("Warren listening")) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`profiled Warren did not start:\n${log}`);
      await Bun.sleep(50);
    }
    const pid = listeningPid(port) ?? proc.pid;
    const result = await scenario.run({
      url: parseAmqpUrl(`amqp://guest:guest@127.0.0.1:${port}/`), broker: "warren (profiled)", brokerPid: pid, duration_s, prefix: `profile-${process.pid}`,
    }, defaultScenarioOptions);
    process.stdout.write(`${resultsTable([result])}\n\n`);
    process.kill(pid, "SIGUSR2");
    const acceptor = join(outDir, "acceptor.json");
    const deadline2 = Date.now() + WRITE_TIMEOUT_MS;
    while (!existsSync(acceptor)) {
      if (Date.now() > deadline2 || proc.exitCode !== null) throw new Error(`no profile written:\n${log}`);
      await Bun.sleep(100);
    }
    const names = ["acceptor.json", ...Array.from({ length: 64 }, (_, i) => `shard-${i}.json`)].filter((n) => existsSync(join(outDir, n)));
    for (const n of names) process.stdout.write(`${printSummary(JSON.parse(readFileSync(join(outDir, n), "utf8")) as ProfileSummary, top)}\n`);
    process.stdout.write(`profiles in ${outDir} (*.json summaries, *.traces.json raw samples, *.bytecodes.txt tiers)\n`);
    return 0;
  } finally {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(STOP_TIMEOUT_MS)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--serve") {
    const separator = argv.indexOf("--");
    await serve(argv[1]!, argv.slice(separator + 1), Number(argv[2]));
  } else {
    try {
      process.exit(await cli(argv));
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    }
  }
}
