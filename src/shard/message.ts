// A message as a shard holds it: the envelope bytes (see records.ts) plus what queues need.
// One Message may sit in several queues of the same shard (fanout); each queue holds its own
// QueueEntry so redelivery flags and positions are per queue.
import type { Slab } from "./slab.ts";

export interface Message {
  /** Unique per shard and monotonic; the journal's message id. */
  readonly id: number;
  /** The envelope is buf[at, at + length): inside `slab`, or an array of its own (slab null). */
  readonly buf: Uint8Array;
  readonly at: number;
  readonly length: number;
  readonly slab: Slab | null;
  readonly persistent: boolean;
  /** Queues of this shard still holding it (ready or unacked); its slab space is released at 0. */
  refs: number;
}

export interface QueueEntry {
  readonly message: Message;
  /** Position in its queue (monotonic per queue): a requeued entry goes back to its place. */
  readonly position: number;
  redelivered: boolean;
  /** Date.now() after which the entry is dropped instead of delivered; 0 = never. */
  readonly expiresAt_ms: number;
}
