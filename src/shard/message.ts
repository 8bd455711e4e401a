// A message as a shard holds it: the envelope bytes (see records.ts) plus what queues need.
// One Message may sit in several queues of the same shard (fanout); each queue holds its own
// QueueEntry so redelivery flags and positions are per queue.

export interface Message {
  /** Unique per shard and monotonic; the journal's message id. */
  readonly id: number;
  readonly blob: Uint8Array;
  readonly persistent: boolean;
}

export interface QueueEntry {
  readonly message: Message;
  /** Position in its queue (monotonic per queue): a requeued entry goes back to its place. */
  readonly position: number;
  redelivered: boolean;
  /** Date.now() after which the entry is dropped instead of delivered; 0 = never. */
  readonly expiresAt_ms: number;
}
