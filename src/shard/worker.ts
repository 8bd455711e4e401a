// Entry point of a queue-shard worker thread. The acceptor creates a fixed pool of these at boot
// and waits for each one's "ready" (after journal recovery) before it accepts connections.
// From then on the two sides talk only through the SharedArrayBuffer rings.
import { Journal } from "../journal/journal.ts";
import { CreditSlots } from "../link/credit_slots.ts";
import { PressureValve } from "../link/memory_pressure.ts";
import { ShardInbox } from "../link/shard_inbox.ts";
import { RecordReceiver, RecordSender } from "../rings/record_link.ts";
import { resetPageDir } from "./paged_messages.ts";
import type { MemoryWindow } from "./queue.ts";
import { Shard } from "./shard.ts";

export interface ShardInit {
  index: number;
  toShard: SharedArrayBuffer;
  toAcceptor: SharedArrayBuffer;
  credits: SharedArrayBuffer;
  /** MemoryPressure's flag. */
  pressure: SharedArrayBuffer;
  /** Journal directory, or null for a broker without persistence (tests of the core only). */
  journalDir: string | null;
  fsync: "always" | "never";
  skipDamaged: boolean;
  indexSnapshotRecords: number;
  window: MemoryWindow;
}

export type ShardReady =
  | { ready: true; index: number; recovered: number; elapsed_ms: number; fromSnapshot: boolean; recordsScanned: number }
  | { ready: false; index: number; error: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<ShardInit>) => {
  const init = event.data;
  try {
    const journal = init.journalDir === null
      ? null
      : Journal.open({ dir: init.journalDir, fsync: init.fsync, skipDamaged: init.skipDamaged, snapshotEveryRecords: init.indexSnapshotRecords });
    if (init.window.pageDir !== null) resetPageDir(init.window.pageDir);
    const sender = new RecordSender(init.toAcceptor);
    const shard = new Shard(sender, new CreditSlots(init.credits), journal, init.window);
    const { messages, elapsed_ms, fromSnapshot, recordsScanned } = shard.recover();
    const inbox = new ShardInbox(shard);
    const valve = new PressureValve(init.pressure);
    const receiver = new RecordReceiver(
      init.toShard,
      (u8, view, offset, length) => inbox.onRecord(u8, view, offset, length),
      () => {
        shard.onBatchEnd();
        valve.afterBatch();
      },
      () => shard.inflowGate(),
    );
    void receiver.run();
    self.postMessage({ ready: true, index: init.index, recovered: messages, elapsed_ms, fromSnapshot, recordsScanned } satisfies ShardReady);
  } catch (error) {
    self.postMessage({ ready: false, index: init.index, error: String((error as Error).message ?? error) } satisfies ShardReady);
  }
};
