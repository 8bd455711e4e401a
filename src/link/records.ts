// The acceptor–shard link protocol: the record types that cross the rings. Every record is written
// and read only in this folder: acceptor → shard records by ShardLink (shard_link.ts) and
// ShardInbox (shard_inbox.ts), shard → acceptor records by AcceptorOutbox (acceptor_outbox.ts)
// and ShardLink. The message envelope inside publish, deliver and get-ok records is envelope.ts;
// the per-channel credit shared by both threads is credit_slots.ts.
//
// Acceptor → shard records start with a ToShard type octet; shard → acceptor records with a
// ToAcceptor type octet. A request with a reqId other than 0 is answered by a `reply` record with
// that reqId and the fields listed after "→ reply".

export const ToShard = {
  /**
   * u32 queueId, u32 reqId, u8 flags (QueueFlag), str32 key, str32 limitsJson (QueueLimits)
   * → reply u32 messages, u32 consumers. Declares the queue; for one that exists only the reply
   * is sent.
   */
  declare: 1,
  /** u32 queueId, u32 reqId, u8 ifEmpty → reply u8 deleted(1)/notEmpty(0), u32 messages */
  delete: 2,
  /** u32 queueId, u32 reqId → reply u32 purged */
  purge: 3,
  /** u8 flags (PublishFlag), u32 channelId, f64 publishSeq, u32 envelopeLength, envelope, u16 n, n × u32 queueId */
  publish: 4,
  /** u32 queueId, u32 consumerId, u32 channelId, u32 creditSlot, u16 prefetch, u8 flags (ConsumeFlag), f64 priority */
  consume: 5,
  /** u32 consumerId, u32 queueId */
  cancel: 6,
  /** u8 action (Settle), u32 n, n × f64 deliveryId */
  settle: 7,
  /** u32 queueId, u32 reqId, u8 noAck → reply u8 found, [f64 deliveryId, u8 redelivered, u32 remaining, u32 deliveryCount, envelope] */
  get: 8,
  /** u32 reqId → reply (empty) once everything sent before it is enqueued and durable */
  sync: 9,
  /** u32 creditSlot: that channel may take deliveries again (credit freed, flow resumed) */
  kick: 10,
  /** u32 reqId → reply u32 n, n × (u32 queueId, u32 ready, u32 unacked, f64 readyBytes) */
  stats: 11,
  /**
   * (no fields) Start-up declared every durable queue: journal messages recovered for any other
   * queue (an exclusive one, or one deleted just before a crash) are dropped, not left for a
   * later queue of the same name to adopt.
   */
  recoveryDone: 12,
  /**
   * u32 queueId, str32 limitsJson (QueueLimits): the queue's effective limits changed (a policy
   * was set or cleared); they replace the declared ones whole, for messages enqueued from now on,
   * and a lower max-length / max-length-bytes with drop-head trims the queue at once.
   */
  setLimits: 13,
  /**
   * u32 reqId → reply (empty): shutdown. Once everything before it is durable the shard writes
   * its journal's index snapshot (the next start-up then skips scanning the segments). The
   * acceptor sends it after closing every connection; anything journaled after it (a late ack)
   * makes the next start-up ignore the snapshot and scan, never use a stale one.
   */
  checkpoint: 14,
  /** f64 handoffId: every queue a dead-lettered message was routed to has it; its source forgets it. */
  deadLettered: 15,
} as const;

export const ToAcceptor = {
  /** u8 redelivered, u32 consumerId, f64 deliveryId (0 for no-ack), u32 deliveryCount (returns so far; quorum queues), envelope */
  deliver: 1,
  /** u32 reqId, then the reply fields of the request */
  reply: 2,
  /** u32 channelId, f64 seq: every publish of that channel up to seq is settled by this shard */
  confirm: 3,
  /** u32 channelId, f64 seq: that publish was refused by a queue of this shard (nack it) */
  nack: 4,
  /**
   * u32 queueId, u8 on: the queue's backlog passed its flow mark while it has consumers (on), or
   * fell back below half of it or lost its consumers (off). Publishers to a queue in flow are not
   * read until it is off again: credit flow from the queue back to the sockets.
   */
  flow: 5,
  /**
   * u32 queueId, u8 reason (DeadLetterReason), f64 handoffId, envelope: the queue, which has a
   * dead-letter exchange, let the message go (rejected, expired, over a limit); the acceptor routes
   * it on with its x-death header. handoffId 0: the queue has forgotten it (transient or not
   * journaled). Otherwise the journal keeps it until ToShard.deadLettered with that id, sent once
   * every target shard confirmed the copy (at least once across a crash).
   */
  deadLetter: 6,
} as const;

/** RabbitMQ's x-death reasons, by their index here. */
export const DEAD_LETTER_REASONS = ["", "rejected", "expired", "maxlen", "delivery_limit"] as const;
export const DeadLetterReason = { rejected: 1, expired: 2, maxlen: 3, deliveryLimit: 4 } as const;

export const Settle = { ack: 0, requeue: 1, drop: 2 } as const;

/** expires: the properties carry an expiration (per-message TTL) the shard must read. */
export const PublishFlag = { persistent: 1, confirm: 2, expires: 4 } as const;
/**
 * quorum: a quorum queue's semantics on the one storage: every message journaled whatever its
 * delivery-mode (as RabbitMQ's Raft log), and returns counted (x-delivery-count, x-delivery-limit).
 */
export const QueueFlag = { durable: 1, autoDelete: 2, exclusive: 4, quorum: 8 } as const;
export const ConsumeFlag = { noAck: 1 } as const;

/**
 * What a shard acts on, sent as JSON: the declare arguments (the acceptor validated them) merged
 * with the queue's policy and operator policy (src/broker/policies.ts decides the effective value).
 */
export interface QueueLimits {
  maxLength?: number;
  maxLengthBytes?: number;
  /** reject-publish-dlx: refused like reject-publish, and dead-lettered. */
  overflow?: "drop-head" | "reject-publish" | "reject-publish-dlx";
  /** x-dead-letter-exchange ("" is the default exchange): messages the queue lets go are routed there. */
  deadLetterExchange?: string;
  /** x-dead-letter-routing-key: the key they are routed with instead of their own (and their CC). */
  deadLetterRoutingKey?: string;
  /**
   * x-dead-letter-strategy (quorum) or its policy. A journaled message is dead-lettered at least
   * once (its source keeps it until the copies are confirmed) unless this says at-most-once.
   */
  deadLetterStrategy?: "at-most-once" | "at-least-once";
  /** x-message-ttl: how long a message may wait in this queue. */
  messageTtl_ms?: number;
  /** x-single-active-consumer: only the earliest registered consumer gets messages. */
  singleActiveConsumer?: boolean;
  /** x-max-priority: a priority queue with levels 0..maxPriority. */
  maxPriority?: number;
  /** x-delivery-limit or a policy's delivery-limit (quorum): a message returned more often than this is dead-lettered (reason delivery_limit) or dropped; null or absent is none. */
  deliveryLimit?: number | null;
}
