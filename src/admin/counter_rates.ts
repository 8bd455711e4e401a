// Per-second rates for the management API's *_details.rate fields, for every counted object at
// once: every 5 seconds (RabbitMQ's default collect_statistics_interval) a sweep records the
// current values of each live object's counters, and a rate is the change over the last full
// interval. The hot path only increments plain fields; this runs in the admin layer. An object
// the sweep no longer records (a closed channel, a deleted queue) is dropped with its samples.

import { log } from "../log.ts";

const SAMPLE_INTERVAL_MS = 5_000;

/** One object's last two samples; `keys` are its number fields, in the order sampled. */
interface Samples {
  readonly keys: readonly string[];
  previous: Float64Array;
  latest: Float64Array;
}

/** Calls `record` for every live object; may wait for the shards' numbers first. */
export type Sweep = (record: (owner: object, values: object) => void) => Promise<void>;

export class CounterRates {
  private samples = new Map<object, Samples>();
  /** The samples of the sweep under way (null between sweeps). */
  private next: Map<object, Samples> | null = null;
  private interval_s = SAMPLE_INTERVAL_MS / 1000;
  private sampledAt = Date.now();
  private firstSweep = true;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly sweep: Sweep) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
    void this.sample();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Events per second of the sum of `keys` over the last sampling interval (0 for an object not sampled yet). */
  rate(owner: object, ...keys: string[]): number {
    const s = this.samples.get(owner);
    if (s === undefined) return 0;
    let delta = 0;
    for (const key of keys) {
      const i = s.keys.indexOf(key);
      if (i >= 0) delta += s.latest[i]! - s.previous[i]!;
    }
    return Math.round((delta / this.interval_s) * 10) / 10;
  }

  private readonly record = (owner: object, values: object): void => {
    const next = this.next;
    if (next === null) return;
    const fields = values as Record<string, unknown>;
    let s = this.samples.get(owner);
    if (s === undefined) {
      const keys = Object.keys(fields).filter((k) => typeof fields[k] === "number");
      // An object first seen after the first sweep began within the last interval, from zero.
      s = { keys, previous: new Float64Array(keys.length), latest: new Float64Array(keys.length) };
      read(s.latest, s.keys, fields);
      if (this.firstSweep) s.previous.set(s.latest);
    } else {
      const older = s.previous;
      s.previous = s.latest;
      s.latest = older;
      read(s.latest, s.keys, fields);
    }
    next.set(owner, s);
  };

  private async sample(): Promise<void> {
    if (this.next !== null) return; // the last sweep is still waiting for a shard
    this.next = new Map();
    try {
      await this.sweep(this.record);
      const now = Date.now();
      this.interval_s = Math.max(0.001, (now - this.sampledAt) / 1000);
      this.sampledAt = now;
      this.samples = this.next;
      this.firstSweep = false;
    } catch (error) {
      // A failed sweep keeps the last rates; the next one tries again.
      log.error(`sampling rates: ${(error as Error).stack ?? String(error)}`);
    } finally {
      this.next = null;
    }
  }
}

function read(into: Float64Array, keys: readonly string[], fields: Record<string, unknown>): void {
  for (let i = 0; i < keys.length; i++) into[i] = fields[keys[i]!] as number;
}
