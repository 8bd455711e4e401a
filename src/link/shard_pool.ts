// The fixed pool of queue-shard workers, created once at boot. Each shard gets a ring in each
// direction; the pool waits for every shard's "ready" (journal recovered) before the broker
// listens. Workers are never terminated while the broker runs: termination churn is unsafe in Bun.
import { join } from "node:path";
import { createRing } from "../rings/ring.ts";
import type { ShardInit, ShardReady } from "../shard/worker.ts";
import { stableHash } from "../broker/names.ts";
import { log } from "../log.ts";
import type { CreditTable } from "./credit_slots.ts";
import type { MemoryPressure } from "./memory_pressure.ts";
import { ShardLink, type ShardEvents } from "./shard_link.ts";

export interface ShardPoolOptions {
  workers: number;
  ring_bytes: number;
  /** Data dir for the journals, or null to run without persistence. */
  dataDir: string | null;
  fsync: "always" | "never";
  skipDamaged: boolean;
  /** Journal records between index snapshots (0: only at shutdown). */
  indexSnapshotRecords: number;
  /** Ready messages a queue keeps in memory (and their bytes) before the rest is paged to disk. */
  queueWindowMessages: number;
  queueWindow_bytes: number;
}

/** A shard that has not answered its start-up handshake by then is reported as failed. */
const READY_TIMEOUT_MS = 120_000;

export class ShardPool {
  readonly links: ShardLink[] = [];
  private readonly workers: Worker[] = [];

  private constructor() {}

  static async start(options: ShardPoolOptions, credits: CreditTable, pressure: MemoryPressure, events: ShardEvents): Promise<ShardPool> {
    const pool = new ShardPool();
    const ready: Promise<ShardReady>[] = [];
    for (let index = 0; index < options.workers; index++) {
      const toShard = createRing(options.ring_bytes);
      const toAcceptor = createRing(options.ring_bytes);
      const worker = new Worker(new URL("../shard/worker.ts", import.meta.url));
      worker.addEventListener("error", (event) => {
        log.error(`shard ${index} crashed: ${(event as ErrorEvent).message}`);
        process.exit(70);
      });
      pool.workers.push(worker);
      pool.links.push(new ShardLink(index, toShard, toAcceptor, events));
      ready.push(new Promise<ShardReady>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`shard ${index} did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        worker.addEventListener("message", (event: MessageEvent<ShardReady>) => {
          clearTimeout(timer);
          resolve(event.data);
        }, { once: true });
      }));
      const init: ShardInit = {
        index,
        toShard,
        toAcceptor,
        credits: credits.sab,
        pressure: pressure.sab,
        journalDir: options.dataDir === null ? null : join(options.dataDir, `shard-${index}`),
        fsync: options.fsync,
        skipDamaged: options.skipDamaged,
        indexSnapshotRecords: options.indexSnapshotRecords,
        window: {
          messages: options.queueWindowMessages,
          bytes: options.queueWindow_bytes,
          pageDir: options.dataDir === null ? null : join(options.dataDir, `shard-${index}`, "pages"),
        },
      };
      worker.postMessage(init);
    }
    for (const result of await Promise.all(ready)) {
      if (!result.ready) throw new Error(`shard ${result.index} failed to start: ${result.error}`);
      if (result.recovered > 0) {
        const scanned = `${result.recordsScanned} journal records scanned`;
        const how = result.fromSnapshot ? `from the index snapshot, ${scanned} after it` : scanned;
        log.info(`shard ${result.index} recovered ${result.recovered} messages in ${result.elapsed_ms.toFixed(0)} ms (${how})`);
      }
    }
    for (const link of pool.links) link.start();
    return pool;
  }

  /** The shard that owns a queue: a stable hash of vhost and name. */
  shardOf(vhost: string, queue: string): number {
    return stableHash(`${vhost}\0${queue}`) % this.links.length;
  }

  /** Publishes every ring's batch (one tail store each). */
  flush(): void {
    for (const link of this.links) link.sender.flush();
  }

  get backlogged(): boolean {
    for (const link of this.links) if (link.sender.backlogged) return true;
    return false;
  }

  /** Shutdown only: the process is exiting. */
  stop(): void {
    for (const worker of this.workers) worker.terminate();
  }
}
