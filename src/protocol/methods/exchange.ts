// exchange (class 40): declaring, deleting and binding exchanges (bind/unbind are RabbitMQ extensions).
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { FieldTable } from "../table.ts";
import { readTable, writeTable } from "../table.ts";
import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface ExchangeDeclare {
  name: "exchange.declare";
  exchange: string;
  type: string;
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  nowait: boolean;
  arguments: FieldTable;
}

export interface ExchangeDeclareOk {
  name: "exchange.declare-ok";
}

export interface ExchangeDelete {
  name: "exchange.delete";
  exchange: string;
  ifUnused: boolean;
  nowait: boolean;
}

export interface ExchangeDeleteOk {
  name: "exchange.delete-ok";
}

export interface ExchangeBind {
  name: "exchange.bind";
  destination: string;
  source: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}

export interface ExchangeBindOk {
  name: "exchange.bind-ok";
}

export interface ExchangeUnbind {
  name: "exchange.unbind";
  destination: string;
  source: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}

export interface ExchangeUnbindOk {
  name: "exchange.unbind-ok";
}

export type ExchangeMethod =
  | ExchangeDeclare
  | ExchangeDeclareOk
  | ExchangeDelete
  | ExchangeDeleteOk
  | ExchangeBind
  | ExchangeBindOk
  | ExchangeUnbind
  | ExchangeUnbindOk;

/** Decodes the arguments of method `methodId` of class exchange; undefined when the id is unknown. */
export function decodeExchange(r: Reader, methodId: number): ExchangeMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "exchange.declare";
      r.skip(2, "ticket");
      const exchange = r.shortStr();
      const type = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return {
        name: "exchange.declare",
        exchange,
        type,
        passive: (bits & 1) !== 0,
        durable: (bits & 2) !== 0,
        autoDelete: (bits & 4) !== 0,
        internal: (bits & 8) !== 0,
        nowait: (bits & 16) !== 0,
        arguments: args,
      };
    }
    case 11: {
      r.what = "exchange.declare-ok";
      r.done();
      return { name: "exchange.declare-ok" };
    }
    case 20: {
      r.what = "exchange.delete";
      r.skip(2, "ticket");
      const exchange = r.shortStr();
      const bits = r.u8();
      r.done();
      return { name: "exchange.delete", exchange, ifUnused: (bits & 1) !== 0, nowait: (bits & 2) !== 0 };
    }
    case 21: {
      r.what = "exchange.delete-ok";
      r.done();
      return { name: "exchange.delete-ok" };
    }
    case 30: {
      r.what = "exchange.bind";
      r.skip(2, "ticket");
      const destination = r.shortStr();
      const source = r.shortStr();
      const routingKey = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return {
        name: "exchange.bind",
        destination,
        source,
        routingKey,
        nowait: (bits & 1) !== 0,
        arguments: args,
      };
    }
    case 31: {
      r.what = "exchange.bind-ok";
      r.done();
      return { name: "exchange.bind-ok" };
    }
    case 40: {
      r.what = "exchange.unbind";
      r.skip(2, "ticket");
      const destination = r.shortStr();
      const source = r.shortStr();
      const routingKey = r.shortStr();
      const bits = r.u8();
      const args = readTable(r);
      r.done();
      return {
        name: "exchange.unbind",
        destination,
        source,
        routingKey,
        nowait: (bits & 1) !== 0,
        arguments: args,
      };
    }
    case 51: {
      r.what = "exchange.unbind-ok";
      r.done();
      return { name: "exchange.unbind-ok" };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeExchange(w: ByteWriter, m: ExchangeMethod): void {
  switch (m.name) {
    case "exchange.declare":
      w.writeU16(0);
      w.writeShortStr(m.exchange);
      w.writeShortStr(m.type);
      w.writeU8(
        (m.passive ? 1 : 0) |
        (m.durable ? 2 : 0) |
        (m.autoDelete ? 4 : 0) |
        (m.internal ? 8 : 0) |
        (m.nowait ? 16 : 0),
      );
      writeTable(w, m.arguments);
      return;
    case "exchange.delete":
      w.writeU16(0);
      w.writeShortStr(m.exchange);
      w.writeU8((m.ifUnused ? 1 : 0) | (m.nowait ? 2 : 0));
      return;
    case "exchange.bind":
      w.writeU16(0);
      w.writeShortStr(m.destination);
      w.writeShortStr(m.source);
      w.writeShortStr(m.routingKey);
      w.writeU8((m.nowait ? 1 : 0));
      writeTable(w, m.arguments);
      return;
    case "exchange.unbind":
      w.writeU16(0);
      w.writeShortStr(m.destination);
      w.writeShortStr(m.source);
      w.writeShortStr(m.routingKey);
      w.writeU8((m.nowait ? 1 : 0));
      writeTable(w, m.arguments);
      return;
    case "exchange.declare-ok":
    case "exchange.delete-ok":
    case "exchange.bind-ok":
    case "exchange.unbind-ok":
      return;
  }
}
