// Per-second rates for the management API's *_details.rate fields, for every counted object at
// once: every 5 seconds (RabbitMQ's default collect_statistics_interval) a sweep records the
// current values of each live object's counters, and a rate is the change over the last full
// interval. The hot path only increments plain fields; this runs in the admin layer. An object
// the sweep no longer records (a closed channel, a deleted queue) is dropped with its samples.
import { log } from "../log.ts";

const SAMPLE_INTERVAL_MS = 5_000;

/** Counters that copy their values out in the order of a `keys` list (see message_counts.ts). */
export interface Sampled {
  sample(into: Float64Array): void;
}

/** Records one object's counters: `keys` names the values `source.sample` writes, in order. */
export type Recorder = (owner: object, keys: readonly string[], source: Sampled) => void;

/** Calls `record` for every live object (it may wait for the shards, or let the event loop in, between records). */
export type Sweep = (record: Recorder) => Promise<void>;

/** One object's last two samples. */
interface Samples {
  readonly keys: readonly string[];
  previous: Float64Array;
  latest: Float64Array;
  /** The sweep that last recorded it. */
  sweep: number;
}

export class CounterRates {
  private readonly samples = new Map<object, Samples>();
  private sweepNumber = 0;
  private sweeping = false;
  private interval_s = SAMPLE_INTERVAL_MS / 1000;
  private sampledAt = Date.now();
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

  private readonly record: Recorder = (owner, keys, source) => {
    let s = this.samples.get(owner);
    if (s === undefined) {
      // First seen after the first sweep: it began within the last interval, from zero. The
      // first sweep only sets the baseline (what was there before the API started has no rate).
      s = { keys, previous: new Float64Array(keys.length), latest: new Float64Array(keys.length), sweep: 0 };
      source.sample(s.latest);
      if (this.sweepNumber === 1) s.previous.set(s.latest);
      this.samples.set(owner, s);
    } else {
      const older = s.previous;
      s.previous = s.latest;
      s.latest = older;
      source.sample(older);
    }
    s.sweep = this.sweepNumber;
  };

  private async sample(): Promise<void> {
    if (this.sweeping) return; // the last sweep is still waiting for a shard
    this.sweeping = true;
    const sweep = ++this.sweepNumber;
    try {
      await this.sweep(this.record);
      const now = Date.now();
      this.interval_s = Math.max(0.001, (now - this.sampledAt) / 1000);
      this.sampledAt = now;
      for (const [owner, s] of this.samples) if (s.sweep !== sweep) this.samples.delete(owner);
    } catch (error) {
      // A failed sweep keeps what it recorded; the next one tries again.
      log.error(`sampling rates: ${(error as Error).stack ?? String(error)}`);
    } finally {
      this.sweeping = false;
    }
  }
}
