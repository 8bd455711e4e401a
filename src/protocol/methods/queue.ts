// queue (class 50): declaring, binding, purging and deleting queues.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { FieldTable } from "../table.ts";
import { readTable, writeTable } from "../table.ts";
import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface QueueDeclare {
  name: "queue.declare";
  queue: string;
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  nowait: boolean;
  arguments: FieldTable;
}

export interface QueueDeclareOk {
  name: "queue.declare-ok";
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface QueueBind {
  name: "queue.bind";
  queue: string;
  exchange: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}

export interface QueueBindOk {
  name: "queue.bind-ok";
}

export interface QueuePurge {
  name: "queue.purge";
  queue: string;
  nowait: boolean;
}

export interface QueuePurgeOk {
  name: "queue.purge-ok";
  messageCount: number;
}

export interface QueueDelete {
  name: "queue.delete";
  queue: string;
  ifUnused: boolean;
  ifEmpty: boolean;
  nowait: boolean;
}

export interface QueueDeleteOk {
  name: "queue.delete-ok";
  messageCount: number;
}

export interface QueueUnbind {
  name: "queue.unbind";
  queue: string;
  exchange: string;
  routingKey: string;
  arguments: FieldTable;
}

export interface QueueUnbindOk {
  name: "queue.unbind-ok";
}

export type QueueMethod =
  | QueueDeclare
  | QueueDeclareOk
  | QueueBind
  | QueueBindOk
  | QueuePurge
  | QueuePurgeOk
  | QueueDelete
  | QueueDeleteOk
  | QueueUnbind
  | QueueUnbindOk;

/** Decodes the arguments of method `methodId` of class queue; undefined when the id is unknown. */
export function decodeQueue(r: Reader, methodId: number): QueueMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "queue.declare";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return {
        name: "queue.declare",
        queue,
        passive: (bits & 1) !== 0,
        durable: (bits & 2) !== 0,
        exclusive: (bits & 4) !== 0,
        autoDelete: (bits & 8) !== 0,
        nowait: (bits & 16) !== 0,
        arguments: args,
      };
    }
    case 11: {
      r.what = "queue.declare-ok";
      const queue = r.shortStr();
      const messageCount = r.u32();
      const consumerCount = r.u32();
      r.done();
      return { name: "queue.declare-ok", queue, messageCount, consumerCount };
    }
    case 20: {
      r.what = "queue.bind";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return { name: "queue.bind", queue, exchange, routingKey, nowait: (bits & 1) !== 0, arguments: args };
    }
    case 21: {
      r.what = "queue.bind-ok";
      r.done();
      return { name: "queue.bind-ok" };
    }
    case 30: {
      r.what = "queue.purge";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const bits = r.u8();
      r.done();
      return { name: "queue.purge", queue, nowait: (bits & 1) !== 0 };
    }
    case 31: {
      r.what = "queue.purge-ok";
      const messageCount = r.u32();
      r.done();
      return { name: "queue.purge-ok", messageCount };
    }
    case 40: {
      r.what = "queue.delete";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const bits = r.u8();
      r.done();
      return {
        name: "queue.delete",
        queue,
        ifUnused: (bits & 1) !== 0,
        ifEmpty: (bits & 2) !== 0,
        nowait: (bits & 4) !== 0,
      };
    }
    case 41: {
      r.what = "queue.delete-ok";
      const messageCount = r.u32();
      r.done();
      return { name: "queue.delete-ok", messageCount };
    }
    case 50: {
      r.what = "queue.unbind";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      const args = readTable(r);
      r.done();
      return { name: "queue.unbind", queue, exchange, routingKey, arguments: args };
    }
    case 51: {
      r.what = "queue.unbind-ok";
      r.done();
      return { name: "queue.unbind-ok" };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeQueue(w: ByteWriter, m: QueueMethod): void {
  switch (m.name) {
    case "queue.declare":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeU8(
        (m.passive ? 1 : 0) |
        (m.durable ? 2 : 0) |
        (m.exclusive ? 4 : 0) |
        (m.autoDelete ? 8 : 0) |
        (m.nowait ? 16 : 0),
      );
      writeTable(w, m.arguments);
      return;
    case "queue.declare-ok":
      w.writeShortStr(m.queue);
      w.writeU32(m.messageCount);
      w.writeU32(m.consumerCount);
      return;
    case "queue.bind":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      w.writeU8((m.nowait ? 1 : 0));
      writeTable(w, m.arguments);
      return;
    case "queue.purge":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeU8((m.nowait ? 1 : 0));
      return;
    case "queue.purge-ok":
      w.writeU32(m.messageCount);
      return;
    case "queue.delete":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeU8((m.ifUnused ? 1 : 0) | (m.ifEmpty ? 2 : 0) | (m.nowait ? 4 : 0));
      return;
    case "queue.delete-ok":
      w.writeU32(m.messageCount);
      return;
    case "queue.unbind":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      writeTable(w, m.arguments);
      return;
    case "queue.bind-ok":
    case "queue.unbind-ok":
      return;
  }
}
