// A message as a shard holds it: the envelope bytes (see records.ts) plus what queues need.
// Queued messages live in their queue's ReadyQueue columns; these objects exist only for a message
// on its way in (publish, recovery) or taken out of a queue (delivered and unacked, got, dropped).
import type { Slab } from "./slab.ts";

export interface Envelope {
  /** Unique per shard and monotonic; the journal's message id. */
  readonly id: number;
  /** The envelope is buf[at, at + length): inside `slab`, or an array of its own (slab null). */
  readonly buf: Uint8Array;
  readonly at: number;
  readonly length: number;
  /** Counts one hold per queue entry of the message; its space is reused once none is left. */
  readonly slab: Slab | null;
  readonly persistent: boolean;
}

/** A message taken out of one queue; fanout gives each queue its own. */
export interface QueueEntry extends Envelope {
  /** Position in its queue (monotonic per queue): a requeued entry goes back to its place. */
  readonly position: number;
  redelivered: boolean;
  /** Date.now() after which the entry is dropped instead of delivered; 0 = never. */
  readonly expiresAt_ms: number;
  /** Times it was returned to its queue after a delivery (counted by quorum queues only). */
  deliveryCount: number;
}
