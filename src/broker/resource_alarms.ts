// The memory and disk alarms, as RabbitMQ's vm_memory_high_watermark and disk_free_limit: the
// resident memory of the whole process (acceptor and shards) and the free space of the data dir's
// file system are sampled every SAMPLE_MS; while either is past its mark, every connection that
// publishes is blocked (publish_flow.ts). Consumers keep being served: that is how memory and
// the queues come down.
import { statfsSync } from "node:fs";
import { totalmem } from "node:os";
import { log } from "../log.ts";

/** A flood of 16-byte messages fills about 100 MiB per 100 ms here: sampled that often. */
const SAMPLE_MS = 100;

/** A watermark as RabbitMQ takes it: a fraction of the machine's memory, or an absolute size. */
export type MemoryWatermark = { fraction: number } | { absolute_bytes: number };

export interface AlarmSettings {
  memory: MemoryWatermark;
  diskFreeLimit_bytes: number;
}

export interface AlarmStatus {
  memAlarm: boolean;
  diskAlarm: boolean;
  memUsed_bytes: number;
  memLimit_bytes: number;
  diskFree_bytes: number;
  diskFreeLimit_bytes: number;
}

const UNITS: Record<string, number> = {
  "": 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** "2GiB", "512MB", "1000000" → bytes (RabbitMQ's units: kB/MB/GB are 10^3, KiB/MiB/GiB 2^10); null if not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (m === null) return null;
  const unit = UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? null : Math.floor(Number(m[1]) * unit);
}

/** "0.4" → a fraction; "2GiB" → absolute. Throws with the reason otherwise. */
export function parseWatermark(text: string): MemoryWatermark {
  if (/^\s*\d*\.\d+\s*$|^\s*[01]\s*$/.test(text)) {
    const fraction = Number(text);
    if (fraction > 0 && fraction <= 1) return { fraction };
  }
  const absolute_bytes = parseSize(text);
  if (absolute_bytes !== null && absolute_bytes > 1) return { absolute_bytes };
  throw new Error(`invalid memory watermark '${text}': a fraction in (0, 1] or a size such as 2GiB`);
}

export class ResourceAlarms {
  private memLimit_bytes: number;
  private diskFreeLimit_bytes: number;
  private memUsed_bytes = 0;
  private diskFree_bytes = Number.POSITIVE_INFINITY;
  private memAlarm = false;
  private diskAlarm = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    settings: AlarmSettings,
    private readonly dataDir: string,
    /** The reason of the alarm now in force ("low on memory", "low on disk") or null; whether the memory alarm is. */
    private readonly onChange: (reason: string | null, memory: boolean) => void,
  ) {
    this.memLimit_bytes = memoryLimit(settings.memory);
    this.diskFreeLimit_bytes = settings.diskFreeLimit_bytes;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  setMemoryWatermark(watermark: MemoryWatermark): void {
    this.memLimit_bytes = memoryLimit(watermark);
    log.info(`memory high watermark set to ${mib(this.memLimit_bytes)} MiB`);
    this.sample();
  }

  setDiskFreeLimit(limit_bytes: number): void {
    this.diskFreeLimit_bytes = limit_bytes;
    log.info(`disk free limit set to ${mib(limit_bytes)} MiB`);
    this.sample();
  }

  get status(): AlarmStatus {
    return {
      memAlarm: this.memAlarm,
      diskAlarm: this.diskAlarm,
      memUsed_bytes: this.memUsed_bytes,
      memLimit_bytes: this.memLimit_bytes,
      diskFree_bytes: this.diskFree_bytes,
      diskFreeLimit_bytes: this.diskFreeLimit_bytes,
    };
  }

  private sample(): void {
    this.memUsed_bytes = process.memoryUsage.rss();
    try {
      const fs = statfsSync(this.dataDir);
      this.diskFree_bytes = fs.bavail * fs.bsize;
    } catch (error) {
      // A data dir that cannot be inspected must not stop the broker: the disk alarm stays as it was.
      log.debug(`cannot read free space of ${this.dataDir}: ${(error as Error).message}`);
    }
    const mem = this.memUsed_bytes > this.memLimit_bytes;
    const disk = this.diskFree_bytes < this.diskFreeLimit_bytes;
    if (mem === this.memAlarm && disk === this.diskAlarm) return;
    if (mem !== this.memAlarm) {
      log.warn(mem
        ? `memory resource limit alarm set: resident memory ${mib(this.memUsed_bytes)} MiB is above the high watermark ${mib(this.memLimit_bytes)} MiB; publishers are blocked`
        : `memory resource limit alarm cleared: resident memory ${mib(this.memUsed_bytes)} MiB, high watermark ${mib(this.memLimit_bytes)} MiB`);
    }
    if (disk !== this.diskAlarm) {
      log.warn(disk
        ? `disk resource limit alarm set: free disk space ${mib(this.diskFree_bytes)} MiB is below the limit ${mib(this.diskFreeLimit_bytes)} MiB; publishers are blocked`
        : `disk resource limit alarm cleared: free disk space ${mib(this.diskFree_bytes)} MiB, limit ${mib(this.diskFreeLimit_bytes)} MiB`);
    }
    this.memAlarm = mem;
    this.diskAlarm = disk;
    this.onChange(mem ? "low on memory" : disk ? "low on disk" : null, mem);
  }
}

function memoryLimit(watermark: MemoryWatermark): number {
  return "fraction" in watermark ? Math.floor(totalmem() * watermark.fraction) : watermark.absolute_bytes;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
