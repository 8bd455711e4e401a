// access (class 30): obsolete access tickets; RabbitMQ still answers access.request.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface AccessRequest {
  name: "access.request";
  realm: string;
  exclusive: boolean;
  passive: boolean;
  active: boolean;
  write: boolean;
  read: boolean;
}

export interface AccessRequestOk {
  name: "access.request-ok";
  ticket: number;
}

export type AccessMethod =
  | AccessRequest
  | AccessRequestOk;

/** Decodes the arguments of method `methodId` of class access; undefined when the id is unknown. */
export function decodeAccess(r: Reader, methodId: number): AccessMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "access.request";
      const realm = r.shortStr();
      const bits = r.u8();
      r.done();
      return {
        name: "access.request",
        realm,
        exclusive: (bits & 1) !== 0,
        passive: (bits & 2) !== 0,
        active: (bits & 4) !== 0,
        write: (bits & 8) !== 0,
        read: (bits & 16) !== 0,
      };
    }
    case 11: {
      r.what = "access.request-ok";
      const ticket = r.u16();
      r.done();
      return { name: "access.request-ok", ticket };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeAccess(w: ByteWriter, m: AccessMethod): void {
  switch (m.name) {
    case "access.request":
      w.writeShortStr(m.realm);
      w.writeU8(
        (m.exclusive ? 1 : 0) |
        (m.passive ? 2 : 0) |
        (m.active ? 4 : 0) |
        (m.write ? 8 : 0) |
        (m.read ? 16 : 0),
      );
      return;
    case "access.request-ok":
      w.writeU16(m.ticket);
      return;
  }
}
