// The shard's end of the ring from the acceptor: decodes each record (records.ts) and calls the
// shard's typed handler. Lists (a publish's target queues, a settle's delivery ids) are read in
// place through RecordList, so no array is allocated per record.
import { RecordCursor } from "./record_codec.ts";
import { ToShard, type QueueLimits } from "./records.ts";

/** A list of fixed-size numbers inside the current record; valid only during the handler call. */
export class RecordList {
  private view: DataView = new DataView(new ArrayBuffer(0));
  private at = 0;
  count = 0;

  reset(view: DataView, at: number, count: number): this {
    this.view = view;
    this.at = at;
    this.count = count;
    return this;
  }

  u32(i: number): number {
    return this.view.getUint32(this.at + 4 * i);
  }

  f64(i: number): number {
    return this.view.getFloat64(this.at + 8 * i);
  }
}

export interface ShardRequests {
  declare(queueId: number, reqId: number, flags: number, key: string, limits: QueueLimits): void;
  deleteQueue(queueId: number, reqId: number, ifEmpty: boolean): void;
  purge(queueId: number, reqId: number): void;
  /** The envelope is u8[envelopeAt, envelopeAt+envelopeLength), valid only during the call. */
  publish(flags: number, channelId: number, seq: number, u8: Uint8Array, envelopeAt: number, envelopeLength: number, queueIds: RecordList): void;
  consume(queueId: number, consumerId: number, channelId: number, creditSlot: number, prefetch: number, flags: number, priority: number): void;
  cancel(consumerId: number): void;
  settle(action: number, deliveryIds: RecordList): void;
  get(queueId: number, reqId: number, noAck: boolean): void;
  sync(reqId: number): void;
  kick(creditSlot: number): void;
  stats(reqId: number): void;
  recoveryDone(): void;
  setLimits(queueId: number, limits: QueueLimits): void;
  checkpoint(reqId: number): void;
  deadLettered(handoffId: number): void;
}

export class ShardInbox {
  private readonly cursor = new RecordCursor();
  private readonly list = new RecordList();

  constructor(private readonly shard: ShardRequests) {}

  onRecord(u8: Uint8Array, view: DataView, offset: number, length: number): void {
    const c = this.cursor.reset(u8, view, offset, length);
    const s = this.shard;
    const type = c.u8v();
    switch (type) {
      case ToShard.publish: {
        const flags = c.u8v();
        const channelId = c.u32();
        const seq = c.f64();
        const envelopeLength = c.u32();
        const envelopeAt = c.pos;
        c.pos += envelopeLength;
        const n = c.u16();
        return s.publish(flags, channelId, seq, u8, envelopeAt, envelopeLength, this.list.reset(view, c.pos, n));
      }
      case ToShard.settle: {
        const action = c.u8v();
        const n = c.u32();
        return s.settle(action, this.list.reset(view, c.pos, n));
      }
      case ToShard.consume:
        return s.consume(c.u32(), c.u32(), c.u32(), c.u32(), c.u16(), c.u8v(), c.f64());
      case ToShard.cancel: return s.cancel(c.u32());
      case ToShard.get: return s.get(c.u32(), c.u32(), c.u8v() !== 0);
      case ToShard.declare:
        return s.declare(c.u32(), c.u32(), c.u8v(), c.str32(), JSON.parse(c.str32()) as QueueLimits);
      case ToShard.delete: return s.deleteQueue(c.u32(), c.u32(), c.u8v() !== 0);
      case ToShard.purge: return s.purge(c.u32(), c.u32());
      case ToShard.sync: return s.sync(c.u32());
      case ToShard.kick: return s.kick(c.u32());
      case ToShard.stats: return s.stats(c.u32());
      case ToShard.recoveryDone: return s.recoveryDone();
      case ToShard.setLimits: return s.setLimits(c.u32(), JSON.parse(c.str32()) as QueueLimits);
      case ToShard.checkpoint: return s.checkpoint(c.u32());
      case ToShard.deadLettered: return s.deadLettered(c.f64());
      default: throw new Error(`shard: unknown record type ${type}`);
    }
  }
}
