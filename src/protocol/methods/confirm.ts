// confirm (class 85): publisher confirms (a RabbitMQ extension).
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface ConfirmSelect {
  name: "confirm.select";
  nowait: boolean;
}

export interface ConfirmSelectOk {
  name: "confirm.select-ok";
}

export type ConfirmMethod =
  | ConfirmSelect
  | ConfirmSelectOk;

/** Decodes the arguments of method `methodId` of class confirm; undefined when the id is unknown. */
export function decodeConfirm(r: Reader, methodId: number): ConfirmMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "confirm.select";
      const bits = r.u8();
      r.done();
      return { name: "confirm.select", nowait: (bits & 1) !== 0 };
    }
    case 11: {
      r.what = "confirm.select-ok";
      r.done();
      return { name: "confirm.select-ok" };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeConfirm(w: ByteWriter, m: ConfirmMethod): void {
  switch (m.name) {
    case "confirm.select":
      w.writeU8((m.nowait ? 1 : 0));
      return;
    case "confirm.select-ok":
      return;
  }
}
