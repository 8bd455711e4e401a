// Per-second rates of the broker's global counters for /api/overview's *_details.rate fields.
// The counters are sampled every 5 seconds (RabbitMQ's default collect_statistics_interval), and
// a rate is the change over the last full interval. Per-queue, per-channel and per-connection
// rates are not tracked: those fields report 0.0.
import type { BrokerCounters } from "../broker/broker.ts";

const SAMPLE_INTERVAL_MS = 5_000;

export class CounterRates {
  private previous: BrokerCounters;
  private latest: BrokerCounters;
  private interval_s = SAMPLE_INTERVAL_MS / 1000;
  private sampledAt = Date.now();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly counters: BrokerCounters) {
    this.previous = { ...counters };
    this.latest = { ...counters };
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Events per second of one counter over the last sampling interval. */
  rate(key: keyof BrokerCounters): number {
    const delta = this.latest[key] - this.previous[key];
    return Math.round((delta / this.interval_s) * 10) / 10;
  }

  private sample(): void {
    const now = Date.now();
    this.interval_s = Math.max(0.001, (now - this.sampledAt) / 1000);
    this.sampledAt = now;
    this.previous = this.latest;
    this.latest = { ...this.counters };
  }
}
