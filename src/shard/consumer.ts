// A consumer as its queue's shard sees it: where deliveries go (consumerId → the acceptor's
// channel) and how many it may hold unacknowledged (per-consumer prefetch, basic.qos global=false).
import type { ShardQueue } from "./queue.ts";

export class Consumer {
  /** Deliveries to this consumer not yet settled (only counted when !noAck). */
  unacked = 0;
  cancelled = false;

  constructor(
    readonly id: number,
    readonly queue: ShardQueue,
    readonly channelId: number,
    readonly creditSlot: number,
    /** basic.qos prefetch-count (global=false) in force when the consumer was created; 0 = unlimited. */
    readonly prefetch: number,
    readonly noAck: boolean,
    /** x-priority: higher priority consumers are served first while they have credit. */
    readonly priority: number,
  ) {}

  get hasOwnCredit(): boolean {
    return this.noAck || this.prefetch === 0 || this.unacked < this.prefetch;
  }
}
