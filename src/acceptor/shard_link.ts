// The acceptor's end of one shard: the two rings, request/reply bookkeeping, and the scratch
// builder records to that shard are written into.
import { RecordReceiver, RecordSender } from "../rings/record_link.ts";
import { RecordBuilder, RecordCursor } from "../shard/record_codec.ts";
import { ToAcceptor } from "../shard/records.ts";

/** What the acceptor does with the shard's unsolicited records. */
export interface ShardEvents {
  /** The message envelope is env[at, at+length), valid only during the call. */
  deliver(shard: number, consumerId: number, deliveryId: number, redelivered: boolean, env: Uint8Array, at: number, length: number): void;
  confirm(shard: number, channelId: number, seq: number): void;
  nack(shard: number, channelId: number, seq: number): void;
  /** End of a batch of records from a shard: flush what it produced. */
  batchEnd(): void;
}

export type ReplyHandler = (reply: RecordCursor) => void;

export class ShardLink {
  readonly sender: RecordSender;
  private readonly receiver: RecordReceiver;
  private readonly replies = new Map<number, ReplyHandler>();
  private nextReqId = 1;
  private readonly cursor = new RecordCursor();
  /** Scratch for one record at a time; send() copies it into the ring. */
  readonly record = new RecordBuilder();

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

  /** Registers a reply handler; the returned id goes into the request record. */
  expectReply(handler: ReplyHandler): number {
    const id = this.nextReqId;
    this.nextReqId = this.nextReqId === 0xffffffff ? 1 : this.nextReqId + 1;
    this.replies.set(id, handler);
    return id;
  }

  /** Sends the scratch record, optionally followed by `tail`. */
  send(tail?: Uint8Array, tailLength = 0): void {
    this.sender.send(this.record.u8, this.record.length, tail, tailLength);
  }

  private onRecord(u8: Uint8Array, view: DataView, offset: number, length: number): void {
    const c = this.cursor.reset(u8, view, offset, length);
    const type = c.u8v();
    switch (type) {
      case ToAcceptor.deliver: {
        const redelivered = c.u8v() !== 0;
        const consumerId = c.u32();
        const deliveryId = c.f64();
        this.events.deliver(this.index, consumerId, deliveryId, redelivered, c.u8, c.pos, c.end - c.pos);
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
      default:
        throw new Error(`shard ${this.index}: unknown record type ${type}`);
    }
  }
}
