// The shard's end of the ring to the acceptor: typed writers for every record the shard sends
// (records.ts). One scratch builder serves all; a message's envelope is appended from where the
// shard keeps it, so a delivery is one copy from the slab into the ring.
import type { RecordSender } from "../rings/record_link.ts";
import { RecordBuilder } from "./record_codec.ts";
import { ToAcceptor } from "./records.ts";

/** Where a message's envelope sits: buf[at, at+length). */
export interface EnvelopeBytes {
  readonly buf: Uint8Array;
  readonly at: number;
  readonly length: number;
}

export class AcceptorOutbox {
  private readonly r = new RecordBuilder();

  constructor(readonly sender: RecordSender) {}

  deliver(redelivered: boolean, consumerId: number, deliveryId: number, deliveryCount: number, env: EnvelopeBytes): void {
    this.r.reset().u8v(ToAcceptor.deliver).u8v(redelivered ? 1 : 0).u32(consumerId).f64(deliveryId).u32(deliveryCount);
    this.sendWith(env);
  }

  confirm(channelId: number, seq: number): void {
    this.r.reset().u8v(ToAcceptor.confirm).u32(channelId).f64(seq);
    this.send();
  }

  nack(channelId: number, seq: number): void {
    this.r.reset().u8v(ToAcceptor.nack).u32(channelId).f64(seq);
    this.send();
  }

  deadLetter(queueId: number, reason: number, handoffId: number, env: EnvelopeBytes): void {
    this.r.reset().u8v(ToAcceptor.deadLetter).u32(queueId).u8v(reason).f64(handoffId);
    this.sendWith(env);
  }

  flow(queueId: number, on: boolean): void {
    this.r.reset().u8v(ToAcceptor.flow).u32(queueId).u8v(on ? 1 : 0);
    this.send();
  }

  declareOk(reqId: number, messages: number, consumers: number): void {
    this.reply(reqId).u32(messages).u32(consumers);
    this.send();
  }

  deleteOk(reqId: number, deleted: boolean, messages: number): void {
    this.reply(reqId).u8v(deleted ? 1 : 0).u32(messages);
    this.send();
  }

  purgeOk(reqId: number, purged: number): void {
    this.reply(reqId).u32(purged);
    this.send();
  }

  getOk(reqId: number, deliveryId: number, redelivered: boolean, remaining: number, deliveryCount: number, env: EnvelopeBytes): void {
    this.reply(reqId).u8v(1).f64(deliveryId).u8v(redelivered ? 1 : 0).u32(remaining).u32(deliveryCount);
    this.sendWith(env);
  }

  getEmpty(reqId: number): void {
    this.reply(reqId).u8v(0);
    this.send();
  }

  syncOk(reqId: number): void {
    this.reply(reqId);
    this.send();
  }

  /** A stats reply: begin with the count, add each queue, then end. */
  statsBegin(reqId: number, count: number): void {
    this.reply(reqId).u32(count);
  }

  statsQueue(queueId: number, ready: number, unacked: number, readyBytes: number): void {
    this.r.u32(queueId).u32(ready).u32(unacked).f64(readyBytes);
  }

  statsEnd(): void {
    this.send();
  }

  private reply(reqId: number): RecordBuilder {
    return this.r.reset().u8v(ToAcceptor.reply).u32(reqId);
  }

  private send(): void {
    this.sender.send(this.r.u8, this.r.length);
  }

  private sendWith(env: EnvelopeBytes): void {
    this.sender.send(this.r.u8, this.r.length, env.buf, env.length, env.at);
  }
}
