// The record types that cross the rings, and the message envelope both sides agree on.
//
// Acceptor → shard records start with a ToShard type octet; shard → acceptor records with a
// ToAcceptor type octet. Field order is documented at each constant and written/read only by
// src/acceptor/shard_link.ts (acceptor side) and src/shard/shard.ts (shard side).
//
// Message envelope ("blob"), stored by the shard as one Uint8Array and sent back unchanged in
// deliveries: u8 exchange length, exchange, u8 routing-key length, routing key,
// u32 properties length, raw properties (flags + values as the publisher sent them), body.

export const ToShard = {
  /** u32 queueId, u32 reqId, u8 flags(durable 1, autoDelete 2, exclusive 4), str32 key, str32 argsJson → reply u32 messages, u32 consumers */
  declare: 1,
  /** u32 queueId, u32 reqId, u8 ifEmpty → reply u8 deleted(1)/notEmpty(0), u32 messages */
  delete: 2,
  /** u32 queueId, u32 reqId → reply u32 purged */
  purge: 3,
  /** u8 flags(persistent 1, confirm 2), u32 channelId, f64 publishSeq, u32 blobLength, blob, u16 n, n × u32 queueId */
  publish: 4,
  /** u32 queueId, u32 consumerId, u32 channelId, u32 creditSlot, u16 prefetch, u8 flags(noAck 1), f64 priority */
  consume: 5,
  /** u32 consumerId, u32 queueId */
  cancel: 6,
  /** u8 action (Settle.*), u32 n, n × f64 deliveryId */
  settle: 7,
  /** u32 queueId, u32 reqId, u8 noAck → reply u8 found, [f64 deliveryId, u8 redelivered, u32 remaining, blob] */
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
} as const;

export const ToAcceptor = {
  /** u8 redelivered, u32 consumerId, f64 deliveryId (0 for no-ack), blob */
  deliver: 1,
  /** u32 reqId, then the reply fields of the request */
  reply: 2,
  /** u32 channelId, f64 seq: every publish of that channel up to seq is settled by this shard */
  confirm: 3,
  /** u32 channelId, f64 seq: that publish was refused by a queue of this shard (nack it) */
  nack: 4,
} as const;

export const Settle = { ack: 0, requeue: 1, drop: 2 } as const;

/** expires: the properties carry an expiration (per-message TTL) the shard must read. */
export const PublishFlag = { persistent: 1, confirm: 2, expires: 4 } as const;
export const QueueFlag = { durable: 1, autoDelete: 2, exclusive: 4 } as const;
export const ConsumeFlag = { noAck: 1 } as const;

/**
 * Per-channel delivery credit shared by the acceptor and every shard (one SharedArrayBuffer):
 * slot*4+0 channel-wide prefetch limit (basic.qos global=true; 0 = none), +1 unacked deliveries
 * counted against it, +2 paused (channel.flow or a backed-up socket), +3 unused.
 * Shards take credit with compareExchange; the acceptor returns it on settlement and kicks.
 */
export const CREDIT_SLOT_INTS = 4;
export const MAX_CREDIT_SLOTS = 65536;
