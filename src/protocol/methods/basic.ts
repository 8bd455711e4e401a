// basic (class 60): publishing, consuming, getting and acknowledging messages.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { FieldTable } from "../table.ts";
import { readTable, writeTable } from "../table.ts";
import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface BasicQos {
  name: "basic.qos";
  prefetchSize: number;
  prefetchCount: number;
  global: boolean;
}

export interface BasicQosOk {
  name: "basic.qos-ok";
}

export interface BasicConsume {
  name: "basic.consume";
  queue: string;
  consumerTag: string;
  noLocal: boolean;
  noAck: boolean;
  exclusive: boolean;
  nowait: boolean;
  arguments: FieldTable;
}

export interface BasicConsumeOk {
  name: "basic.consume-ok";
  consumerTag: string;
}

export interface BasicCancel {
  name: "basic.cancel";
  consumerTag: string;
  nowait: boolean;
}

export interface BasicCancelOk {
  name: "basic.cancel-ok";
  consumerTag: string;
}

export interface BasicPublish {
  name: "basic.publish";
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  immediate: boolean;
}

export interface BasicReturn {
  name: "basic.return";
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
}

export interface BasicDeliver {
  name: "basic.deliver";
  consumerTag: string;
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
}

export interface BasicGet {
  name: "basic.get";
  queue: string;
  noAck: boolean;
}

export interface BasicGetOk {
  name: "basic.get-ok";
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  messageCount: number;
}

export interface BasicGetEmpty {
  name: "basic.get-empty";
}

export interface BasicAck {
  name: "basic.ack";
  deliveryTag: number;
  multiple: boolean;
}

export interface BasicReject {
  name: "basic.reject";
  deliveryTag: number;
  requeue: boolean;
}

export interface BasicRecoverAsync {
  name: "basic.recover-async";
  requeue: boolean;
}

export interface BasicRecover {
  name: "basic.recover";
  requeue: boolean;
}

export interface BasicRecoverOk {
  name: "basic.recover-ok";
}

export interface BasicNack {
  name: "basic.nack";
  deliveryTag: number;
  multiple: boolean;
  requeue: boolean;
}

export type BasicMethod =
  | BasicQos
  | BasicQosOk
  | BasicConsume
  | BasicConsumeOk
  | BasicCancel
  | BasicCancelOk
  | BasicPublish
  | BasicReturn
  | BasicDeliver
  | BasicGet
  | BasicGetOk
  | BasicGetEmpty
  | BasicAck
  | BasicReject
  | BasicRecoverAsync
  | BasicRecover
  | BasicRecoverOk
  | BasicNack;

/** Decodes the arguments of method `methodId` of class basic; undefined when the id is unknown. */
export function decodeBasic(r: Reader, methodId: number): BasicMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "basic.qos";
      const prefetchSize = r.u32();
      const prefetchCount = r.u16();
      const bits = r.u8();
      r.done();
      return { name: "basic.qos", prefetchSize, prefetchCount, global: (bits & 1) !== 0 };
    }
    case 11: {
      r.what = "basic.qos-ok";
      r.done();
      return { name: "basic.qos-ok" };
    }
    case 20: {
      r.what = "basic.consume";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const consumerTag = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return {
        name: "basic.consume",
        queue,
        consumerTag,
        noLocal: (bits & 1) !== 0,
        noAck: (bits & 2) !== 0,
        exclusive: (bits & 4) !== 0,
        nowait: (bits & 8) !== 0,
        arguments: args,
      };
    }
    case 21: {
      r.what = "basic.consume-ok";
      const consumerTag = r.shortStr();
      r.done();
      return { name: "basic.consume-ok", consumerTag };
    }
    case 30: {
      r.what = "basic.cancel";
      const consumerTag = r.shortStr();
      const bits = r.u8();
      r.done();
      return { name: "basic.cancel", consumerTag, nowait: (bits & 1) !== 0 };
    }
    case 31: {
      r.what = "basic.cancel-ok";
      const consumerTag = r.shortStr();
      r.done();
      return { name: "basic.cancel-ok", consumerTag };
    }
    case 40: {
      r.what = "basic.publish";
      r.skip(2, "ticket");
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      const bits = r.u8();
      r.done();
      return {
        name: "basic.publish",
        exchange,
        routingKey,
        mandatory: (bits & 1) !== 0,
        immediate: (bits & 2) !== 0,
      };
    }
    case 50: {
      r.what = "basic.return";
      const replyCode = r.u16();
      const replyText = r.shortStr();
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      r.done();
      return { name: "basic.return", replyCode, replyText, exchange, routingKey };
    }
    case 60: {
      r.what = "basic.deliver";
      const consumerTag = r.shortStr();
      const deliveryTag = r.u64();
      const bits = r.u8();
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      r.done();
      return {
        name: "basic.deliver",
        consumerTag,
        deliveryTag,
        redelivered: (bits & 1) !== 0,
        exchange,
        routingKey,
      };
    }
    case 70: {
      r.what = "basic.get";
      r.skip(2, "ticket");
      const queue = r.shortStr();
      const bits = r.u8();
      r.done();
      return { name: "basic.get", queue, noAck: (bits & 1) !== 0 };
    }
    case 71: {
      r.what = "basic.get-ok";
      const deliveryTag = r.u64();
      const bits = r.u8();
      const exchange = r.shortStr();
      const routingKey = r.shortStr();
      const messageCount = r.u32();
      r.done();
      return {
        name: "basic.get-ok",
        deliveryTag,
        redelivered: (bits & 1) !== 0,
        exchange,
        routingKey,
        messageCount,
      };
    }
    case 72: {
      r.what = "basic.get-empty";
      r.skip(r.u8(), "cluster-id");
      r.done();
      return { name: "basic.get-empty" };
    }
    case 80: {
      r.what = "basic.ack";
      const deliveryTag = r.u64();
      const bits = r.u8();
      r.done();
      return { name: "basic.ack", deliveryTag, multiple: (bits & 1) !== 0 };
    }
    case 90: {
      r.what = "basic.reject";
      const deliveryTag = r.u64();
      const bits = r.u8();
      r.done();
      return { name: "basic.reject", deliveryTag, requeue: (bits & 1) !== 0 };
    }
    case 100: {
      r.what = "basic.recover-async";
      const bits = r.u8();
      r.done();
      return { name: "basic.recover-async", requeue: (bits & 1) !== 0 };
    }
    case 110: {
      r.what = "basic.recover";
      const bits = r.u8();
      r.done();
      return { name: "basic.recover", requeue: (bits & 1) !== 0 };
    }
    case 111: {
      r.what = "basic.recover-ok";
      r.done();
      return { name: "basic.recover-ok" };
    }
    case 120: {
      r.what = "basic.nack";
      const deliveryTag = r.u64();
      const bits = r.u8();
      r.done();
      return { name: "basic.nack", deliveryTag, multiple: (bits & 1) !== 0, requeue: (bits & 2) !== 0 };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeBasic(w: ByteWriter, m: BasicMethod): void {
  switch (m.name) {
    case "basic.qos":
      w.writeU32(m.prefetchSize);
      w.writeU16(m.prefetchCount);
      w.writeU8((m.global ? 1 : 0));
      return;
    case "basic.consume":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeShortStr(m.consumerTag);
      w.writeU8((m.noLocal ? 1 : 0) | (m.noAck ? 2 : 0) | (m.exclusive ? 4 : 0) | (m.nowait ? 8 : 0));
      writeTable(w, m.arguments);
      return;
    case "basic.consume-ok":
      w.writeShortStr(m.consumerTag);
      return;
    case "basic.cancel":
      w.writeShortStr(m.consumerTag);
      w.writeU8((m.nowait ? 1 : 0));
      return;
    case "basic.cancel-ok":
      w.writeShortStr(m.consumerTag);
      return;
    case "basic.publish":
      w.writeU16(0);
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      w.writeU8((m.mandatory ? 1 : 0) | (m.immediate ? 2 : 0));
      return;
    case "basic.return":
      w.writeU16(m.replyCode);
      w.writeShortStr(m.replyText);
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      return;
    case "basic.deliver":
      w.writeShortStr(m.consumerTag);
      w.writeU64(m.deliveryTag);
      w.writeU8((m.redelivered ? 1 : 0));
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      return;
    case "basic.get":
      w.writeU16(0);
      w.writeShortStr(m.queue);
      w.writeU8((m.noAck ? 1 : 0));
      return;
    case "basic.get-ok":
      w.writeU64(m.deliveryTag);
      w.writeU8((m.redelivered ? 1 : 0));
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.routingKey);
      w.writeU32(m.messageCount);
      return;
    case "basic.get-empty":
      w.writeU8(0);
      return;
    case "basic.ack":
      w.writeU64(m.deliveryTag);
      w.writeU8((m.multiple ? 1 : 0));
      return;
    case "basic.reject":
      w.writeU64(m.deliveryTag);
      w.writeU8((m.requeue ? 1 : 0));
      return;
    case "basic.recover-async":
      w.writeU8((m.requeue ? 1 : 0));
      return;
    case "basic.recover":
      w.writeU8((m.requeue ? 1 : 0));
      return;
    case "basic.nack":
      w.writeU64(m.deliveryTag);
      w.writeU8((m.multiple ? 1 : 0) | (m.requeue ? 2 : 0));
      return;
    case "basic.qos-ok":
    case "basic.recover-ok":
      return;
  }
}
