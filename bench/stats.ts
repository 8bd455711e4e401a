// Numbers about a run: a latency histogram that records without allocating, medians, and a
// sampler of a broker process's RSS and CPU time read from /proc.
import { readFileSync } from "node:fs";

/** Values below this many µs get a bucket each; above, 64 buckets per power of two (1.6% wide). */
const LINEAR_US = 128;
const SUB_BUCKETS = 64;
const SUB_BITS = 6;
/** Latencies are clamped to 2^31-1 µs (about 36 minutes). */
const MAX_US = 0x7fffffff;
const BUCKETS = 25 * SUB_BUCKETS + LINEAR_US;
const US_PER_MS = 1000;
const NS_PER_US = 1000;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max_us = 0;

  record_ns(latency_ns: number): void {
    let us = Math.floor(latency_ns / NS_PER_US);
    if (!(us > 0)) us = 0; // also NaN from an unstamped body
    if (us > MAX_US) us = MAX_US;
    this.counts[bucketOf(us)]!++;
    this.count++;
    if (us > this.max_us) this.max_us = us;
  }

  /** The p-th percentile (0 < p <= 100) in ms, at the middle of its bucket; null without samples. */
  percentile_ms(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketMiddle_us(i), this.max_us) / US_PER_MS;
    }
    return this.max_us / US_PER_MS;
  }

  get max_ms(): number | null {
    return this.count === 0 ? null : this.max_us / US_PER_MS;
  }
}

function bucketOf(us: number): number {
  if (us < LINEAR_US) return us;
  const shift = 31 - Math.clz32(us) - SUB_BITS;
  return shift * SUB_BUCKETS + (us >>> shift);
}

function bucketMiddle_us(index: number): number {
  if (index < LINEAR_US) return index;
  const shift = (index >>> SUB_BITS) - 1;
  const low = (index - shift * SUB_BUCKETS) << shift;
  return low + ((1 << shift) - 1) / 2;
}

/** Median of the values; null if any is null (a broker whose numbers are n/a in one round). */
export function median(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  const sorted = (values as number[]).slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface ProcessUsage {
  /** Largest VmRSS seen while sampling; null when the process could not be read. */
  peak_rss_bytes: number | null;
  /** user + system CPU seconds of the whole process (all threads) between start and stop. */
  cpu_s: number | null;
}

const SAMPLE_INTERVAL_MS = 200;
const CLOCK_TICKS_PER_S = clockTicks();

/**
 * Samples one process: VmRSS from /proc/PID/status (one value for the process: threads share
 * its memory) every SAMPLE_INTERVAL_MS, and utime+stime from /proc/PID/stat (summed over all its
 * threads by the kernel) at start and stop. A null pid samples nothing and reports n/a.
 */
export class ProcessSampler {
  private timer: ReturnType<typeof setInterval> | null = null;
  private peak_rss_bytes = 0;
  private cpuStart_ticks: number | null = null;
  private readable = true;

  constructor(private readonly pid: number | null) {}

  start(): void {
    if (this.pid === null) return;
    this.cpuStart_ticks = cpuTicks(this.pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  /** Takes one RSS sample now (e.g. right after a fill, before a drain frees memory). */
  sample(): number | null {
    if (this.pid === null) return null;
    const rss = rssBytes(this.pid);
    if (rss === null) this.readable = false;
    else if (rss > this.peak_rss_bytes) this.peak_rss_bytes = rss;
    return rss;
  }

  stop(): ProcessUsage {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.pid === null) return { peak_rss_bytes: null, cpu_s: null };
    this.sample();
    const end = cpuTicks(this.pid);
    const cpu_s = end === null || this.cpuStart_ticks === null ? null : (end - this.cpuStart_ticks) / CLOCK_TICKS_PER_S;
    return { peak_rss_bytes: this.readable ? this.peak_rss_bytes : null, cpu_s };
  }
}

function rssBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (man 5 proc).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

function clockTicks(): number {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const n = Number(out.stdout.toString().trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** The pid of the process listening on a local TCP port (via ss), or null. */
export function listeningPid(port: number): number | null {
  try {
    const out = Bun.spawnSync(["ss", "-Htlnp", `sport = :${port}`], { stdout: "pipe", stderr: "ignore" });
    const match = /pid=(\d+)/.exec(out.stdout.toString());
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** CPU seconds this process (the generator) has used so far, all threads. */
export function ownCpu_s(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
