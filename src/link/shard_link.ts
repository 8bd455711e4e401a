// The acceptor's end of one shard: typed requests written into the ring to the shard, replies
// matched to their requests, and the shard's unsolicited records (deliveries, confirms, flow)
// handed to the broker. Record layouts are records.ts; this file and shard_inbox.ts /
// acceptor_outbox.ts are the only places that write or read them.
import { RecordReceiver, RecordSender } from "../rings/record_link.ts";
import { RecordBuilder, RecordCursor } from "./record_codec.ts";
import { ToAcceptor, ToShard, type QueueLimits } from "./records.ts";

/** What the acceptor does with the shard's unsolicited records. */
export interface ShardEvents {
  /** The message envelope is env[at, at+length), valid only during the call. */
  deliver(shard: number, consumerId: number, deliveryId: number, redelivered: boolean, deliveryCount: number, env: Uint8Array, at: number, length: number): void;
  confirm(shard: number, channelId: number, seq: number): void;
  nack(shard: number, channelId: number, seq: number): void;
  /** A message a queue let go, to route to its dead-letter exchange (env valid only during the call). */
  deadLetter(shard: number, queueId: number, reason: number, handoffId: number, env: Uint8Array, at: number, length: number): void;
  /** A queue entered (on) or left (off) flow: see ToAcceptor.flow. */
  queueFlow(shard: number, queueId: number, on: boolean): void;
  /** End of a batch of records from a shard: flush what it produced. */
  batchEnd(): void;
}

/** A basic.get answer; the envelope is env[at, at+length), valid only during the callback. */
export interface GotMessage {
  deliveryId: number;
  redelivered: boolean;
  remaining: number;
  /** Returns so far (quorum queues; 0 otherwise): the x-delivery-count header. */
  deliveryCount: number;
  env: Uint8Array;
  at: number;
  length: number;
}

/** One queue's counts in a stats reply. */
export interface ShardQueueStats {
  queueId: number;
  ready: number;
  unacked: number;
  readyBytes: number;
}

type ReplyHandler = (reply: RecordCursor) => void;

const NO_BYTES = new Uint8Array(0);

export class ShardLink {
  readonly sender: RecordSender;
  private readonly receiver: RecordReceiver;
  private readonly replies = new Map<number, ReplyHandler>();
  private nextReqId = 1;
  private readonly cursor = new RecordCursor();
  /** Scratch for one record at a time; the sender copies it into the ring. */
  private readonly record = new RecordBuilder();
  private readonly got: GotMessage = { deliveryId: 0, redelivered: false, remaining: 0, deliveryCount: 0, env: new Uint8Array(0), at: 0, length: 0 };

  constructor(
    readonly index: number,
    toShard: SharedArrayBuffer,
    toAcceptor: SharedArrayBuffer,
    private readonly events: ShardEvents,
  ) {
    this.sender = new RecordSender(toShard);
    this.receiver = new RecordReceiver(toAcceptor, (u8, view, offset, length) => this.onRecord(u8, view, offset, length), () => events.batchEnd());
  }

  start(): void {
    void this.receiver.run();
  }

  /** Bytes sent to the shard that it has not taken out of the ring yet (its backlog included). */
  get unreadBytes(): number {
    return this.sender.unreadBytes;
  }

  // --- requests ------------------------------------------------------------------------------

  /** Declares a queue (no reply), or asks an existing one's counts (with `reply`). */
  declare(queueId: number, flags: number, key: string, limits: QueueLimits, reply?: (messages: number, consumers: number) => void): void {
    const reqId = reply === undefined ? 0 : this.expect((c) => reply(c.u32(), c.u32()));
    this.record.reset().u8v(ToShard.declare).u32(queueId).u32(reqId).u8v(flags).str32(key).str32(JSON.stringify(limits));
    this.send();
  }

  /** `reply(deleted, messages)`: with ifEmpty a queue holding messages is not deleted. */
  delete(queueId: number, ifEmpty: boolean, reply: (deleted: boolean, messages: number) => void): void {
    const reqId = this.expect((c) => reply(c.u8v() === 1, c.u32()));
    this.record.reset().u8v(ToShard.delete).u32(queueId).u32(reqId).u8v(ifEmpty ? 1 : 0);
    this.send();
  }

  purge(queueId: number, reply: (purged: number) => void): void {
    const reqId = this.expect((c) => reply(c.u32()));
    this.record.reset().u8v(ToShard.purge).u32(queueId).u32(reqId);
    this.send();
  }

  /**
   * A publish record (publish_record.ts) followed by the ids of this shard's target queues.
   * `body`: the message body when the record ends before it (taken by reference from its frame).
   */
  publish(record: Uint8Array, length: number, queueIds: readonly number[], body: Uint8Array = NO_BYTES): void {
    const t = this.record.reset().u16(queueIds.length);
    for (const id of queueIds) t.u32(id);
    this.sender.sendParts(record, length, body, t.u8, t.length);
  }

  consume(queueId: number, consumerId: number, channelId: number, creditSlot: number, prefetch: number, flags: number, priority: number): void {
    this.record.reset().u8v(ToShard.consume).u32(queueId).u32(consumerId).u32(channelId).u32(creditSlot).u16(prefetch).u8v(flags).f64(priority);
    this.send();
  }

  cancel(consumerId: number, queueId: number): void {
    this.record.reset().u8v(ToShard.cancel).u32(consumerId).u32(queueId);
    this.send();
  }

  settle(action: number, deliveryIds: readonly number[]): void {
    const r = this.record.reset().u8v(ToShard.settle).u8v(action).u32(deliveryIds.length);
    for (const id of deliveryIds) r.f64(id);
    this.send();
  }

  /** `reply(null)` when the queue is empty (or gone). */
  get(queueId: number, noAck: boolean, reply: (got: GotMessage | null) => void): void {
    const reqId = this.expect((c) => {
      if (c.u8v() === 0) return reply(null);
      const got = this.got;
      got.deliveryId = c.f64();
      got.redelivered = c.u8v() !== 0;
      got.remaining = c.u32();
      got.deliveryCount = c.u32();
      got.env = c.u8;
      got.at = c.pos;
      got.length = c.end - c.pos;
      reply(got);
    });
    this.record.reset().u8v(ToShard.get).u32(queueId).u32(reqId).u8v(noAck ? 1 : 0);
    this.send();
  }

  /** `reply` once everything sent before it is applied and durable. */
  sync(reply: () => void): void {
    const reqId = this.expect(() => reply());
    this.record.reset().u8v(ToShard.sync).u32(reqId);
    this.send();
  }

  /** The dead-lettered message with this handoff id is in all its targets: the source may forget it. */
  deadLettered(handoffId: number): void {
    this.record.reset().u8v(ToShard.deadLettered).f64(handoffId);
    this.send();
  }

  /** Shutdown: `reply` once the shard's journal is durable and its index snapshot written. */
  checkpoint(reply: () => void): void {
    const reqId = this.expect(() => reply());
    this.record.reset().u8v(ToShard.checkpoint).u32(reqId);
    this.send();
  }

  kick(creditSlot: number): void {
    this.record.reset().u8v(ToShard.kick).u32(creditSlot);
    this.send();
  }

  stats(reply: (queues: ShardQueueStats[]) => void): void {
    const reqId = this.expect((c) => {
      const queues: ShardQueueStats[] = [];
      for (let n = c.u32(); n > 0; n--) queues.push({ queueId: c.u32(), ready: c.u32(), unacked: c.u32(), readyBytes: c.f64() });
      reply(queues);
    });
    this.record.reset().u8v(ToShard.stats).u32(reqId);
    this.send();
  }

  /** The queue's effective limits changed (policies): see ToShard.setLimits. */
  setLimits(queueId: number, limits: QueueLimits): void {
    this.record.reset().u8v(ToShard.setLimits).u32(queueId).str32(JSON.stringify(limits));
    this.send();
  }

  recoveryDone(): void {
    this.record.reset().u8v(ToShard.recoveryDone);
    this.send();
  }

  private expect(handler: ReplyHandler): number {
    const id = this.nextReqId;
    this.nextReqId = this.nextReqId === 0xffffffff ? 1 : this.nextReqId + 1;
    this.replies.set(id, handler);
    return id;
  }

  private send(): void {
    this.sender.send(this.record.u8, this.record.length);
  }

  // --- records from the shard ----------------------------------------------------------------

  private onRecord(u8: Uint8Array, view: DataView, offset: number, length: number): void {
    const c = this.cursor.reset(u8, view, offset, length);
    const type = c.u8v();
    switch (type) {
      case ToAcceptor.deliver: {
        const redelivered = c.u8v() !== 0;
        const consumerId = c.u32();
        const deliveryId = c.f64();
        const deliveryCount = c.u32();
        this.events.deliver(this.index, consumerId, deliveryId, redelivered, deliveryCount, c.u8, c.pos, c.end - c.pos);
        return;
      }
      case ToAcceptor.reply: {
        const reqId = c.u32();
        const handler = this.replies.get(reqId);
        if (handler === undefined) throw new Error(`shard ${this.index}: reply to unknown request ${reqId}`);
        this.replies.delete(reqId);
        handler(c);
        return;
      }
      case ToAcceptor.confirm: {
        const channelId = c.u32();
        this.events.confirm(this.index, channelId, c.f64());
        return;
      }
      case ToAcceptor.nack: {
        const channelId = c.u32();
        this.events.nack(this.index, channelId, c.f64());
        return;
      }
      case ToAcceptor.deadLetter: {
        const queueId = c.u32();
        const reason = c.u8v();
        const handoffId = c.f64();
        this.events.deadLetter(this.index, queueId, reason, handoffId, c.u8, c.pos, c.end - c.pos);
        return;
      }
      case ToAcceptor.flow: {
        const queueId = c.u32();
        this.events.queueFlow(this.index, queueId, c.u8v() === 1);
        return;
      }
      default:
        throw new Error(`shard ${this.index}: unknown record type ${type}`);
    }
  }
}
