// The AMQP 0-9-1 methods as one discriminated union on `name`, and their frame payloads:
// class-id (u16), method-id (u16), then the arguments (methods/<class>.ts).

import { AmqpError, ReplyCode } from "./errors.ts";
import { ClassId } from "./constants.ts";
import { Reader } from "./reader.ts";
import type { ByteWriter } from "./byte_writer.ts";
import { decodeAccess, encodeAccess } from "./methods/access.ts";
import { decodeBasic, encodeBasic } from "./methods/basic.ts";
import { decodeChannel, encodeChannel } from "./methods/channel.ts";
import { decodeConfirm, encodeConfirm } from "./methods/confirm.ts";
import { decodeConnection, encodeConnection } from "./methods/connection.ts";
import { decodeExchange, encodeExchange } from "./methods/exchange.ts";
import { decodeQueue, encodeQueue } from "./methods/queue.ts";
import { decodeTx } from "./methods/tx.ts";
import type { AccessMethod } from "./methods/access.ts";
import type { BasicMethod } from "./methods/basic.ts";
import type { ChannelMethod } from "./methods/channel.ts";
import type { ConfirmMethod } from "./methods/confirm.ts";
import type { ConnectionMethod } from "./methods/connection.ts";
import type { ExchangeMethod } from "./methods/exchange.ts";
import type { QueueMethod } from "./methods/queue.ts";
import type { TxMethod } from "./methods/tx.ts";

export type * from "./methods/access.ts";
export type * from "./methods/basic.ts";
export type * from "./methods/channel.ts";
export type * from "./methods/confirm.ts";
export type * from "./methods/connection.ts";
export type * from "./methods/exchange.ts";
export type * from "./methods/queue.ts";
export type * from "./methods/tx.ts";

export type Method =
  | ConnectionMethod
  | ChannelMethod
  | AccessMethod
  | ExchangeMethod
  | QueueMethod
  | BasicMethod
  | TxMethod
  | ConfirmMethod;

export type MethodName = Method["name"];

/** The method type whose name is N, e.g. MethodOf<"basic.publish">. */
export type MethodOf<N extends MethodName> = Extract<Method, { name: N }>;

export interface MethodIds {
  readonly classId: number;
  readonly methodId: number;
}

const METHOD_IDS: { readonly [N in MethodName]: MethodIds } = {
  "connection.start": { classId: 10, methodId: 10 },
  "connection.start-ok": { classId: 10, methodId: 11 },
  "connection.secure": { classId: 10, methodId: 20 },
  "connection.secure-ok": { classId: 10, methodId: 21 },
  "connection.tune": { classId: 10, methodId: 30 },
  "connection.tune-ok": { classId: 10, methodId: 31 },
  "connection.open": { classId: 10, methodId: 40 },
  "connection.open-ok": { classId: 10, methodId: 41 },
  "connection.close": { classId: 10, methodId: 50 },
  "connection.close-ok": { classId: 10, methodId: 51 },
  "connection.blocked": { classId: 10, methodId: 60 },
  "connection.unblocked": { classId: 10, methodId: 61 },
  "connection.update-secret": { classId: 10, methodId: 70 },
  "connection.update-secret-ok": { classId: 10, methodId: 71 },
  "channel.open": { classId: 20, methodId: 10 },
  "channel.open-ok": { classId: 20, methodId: 11 },
  "channel.flow": { classId: 20, methodId: 20 },
  "channel.flow-ok": { classId: 20, methodId: 21 },
  "channel.close": { classId: 20, methodId: 40 },
  "channel.close-ok": { classId: 20, methodId: 41 },
  "access.request": { classId: 30, methodId: 10 },
  "access.request-ok": { classId: 30, methodId: 11 },
  "exchange.declare": { classId: 40, methodId: 10 },
  "exchange.declare-ok": { classId: 40, methodId: 11 },
  "exchange.delete": { classId: 40, methodId: 20 },
  "exchange.delete-ok": { classId: 40, methodId: 21 },
  "exchange.bind": { classId: 40, methodId: 30 },
  "exchange.bind-ok": { classId: 40, methodId: 31 },
  "exchange.unbind": { classId: 40, methodId: 40 },
  "exchange.unbind-ok": { classId: 40, methodId: 51 },
  "queue.declare": { classId: 50, methodId: 10 },
  "queue.declare-ok": { classId: 50, methodId: 11 },
  "queue.bind": { classId: 50, methodId: 20 },
  "queue.bind-ok": { classId: 50, methodId: 21 },
  "queue.purge": { classId: 50, methodId: 30 },
  "queue.purge-ok": { classId: 50, methodId: 31 },
  "queue.delete": { classId: 50, methodId: 40 },
  "queue.delete-ok": { classId: 50, methodId: 41 },
  "queue.unbind": { classId: 50, methodId: 50 },
  "queue.unbind-ok": { classId: 50, methodId: 51 },
  "basic.qos": { classId: 60, methodId: 10 },
  "basic.qos-ok": { classId: 60, methodId: 11 },
  "basic.consume": { classId: 60, methodId: 20 },
  "basic.consume-ok": { classId: 60, methodId: 21 },
  "basic.cancel": { classId: 60, methodId: 30 },
  "basic.cancel-ok": { classId: 60, methodId: 31 },
  "basic.publish": { classId: 60, methodId: 40 },
  "basic.return": { classId: 60, methodId: 50 },
  "basic.deliver": { classId: 60, methodId: 60 },
  "basic.get": { classId: 60, methodId: 70 },
  "basic.get-ok": { classId: 60, methodId: 71 },
  "basic.get-empty": { classId: 60, methodId: 72 },
  "basic.ack": { classId: 60, methodId: 80 },
  "basic.reject": { classId: 60, methodId: 90 },
  "basic.recover-async": { classId: 60, methodId: 100 },
  "basic.recover": { classId: 60, methodId: 110 },
  "basic.recover-ok": { classId: 60, methodId: 111 },
  "basic.nack": { classId: 60, methodId: 120 },
  "tx.select": { classId: 90, methodId: 10 },
  "tx.select-ok": { classId: 90, methodId: 11 },
  "tx.commit": { classId: 90, methodId: 20 },
  "tx.commit-ok": { classId: 90, methodId: 21 },
  "tx.rollback": { classId: 90, methodId: 30 },
  "tx.rollback-ok": { classId: 90, methodId: 31 },
  "confirm.select": { classId: 85, methodId: 10 },
  "confirm.select-ok": { classId: 85, methodId: 11 },
};
for (const ids of Object.values(METHOD_IDS)) Object.freeze(ids);

/** Class and method id of a method (a shared frozen object). */
export function methodIds(name: MethodName): MethodIds {
  return METHOD_IDS[name];
}

/** True for the methods followed by a content header and body frames. */
export function hasContent(name: MethodName): boolean {
  return name === "basic.publish" || name === "basic.deliver" || name === "basic.get-ok" || name === "basic.return";
}

// Decoding is synchronous and never re-entered, so one cursor serves every call.
const reader = new Reader();

/**
 * Decodes a method frame payload. Unknown class or method ids throw 503 COMMAND_INVALID
 * (RabbitMQ's answer to methods it does not implement); a payload that does not match the
 * method's arguments exactly throws 501 FRAME_ERROR "cannot decode <method>: ..." as RabbitMQ's
 * rabbit_misc:frame_error/2 does. Bytes and tables in the result are copies.
 */
export function decodeMethod(payload: Uint8Array, offset: number, length: number): Method {
  const r = reader;
  r.reset(payload, offset, length, "method frame");
  const classId = r.u16();
  const methodId = r.u16();
  r.classId = classId;
  r.methodId = methodId;
  let method: Method | undefined;
  switch (classId) {
    case ClassId.basic:
      method = decodeBasic(r, methodId);
      break;
    case ClassId.connection:
      method = decodeConnection(r, methodId);
      break;
    case ClassId.channel:
      method = decodeChannel(r, methodId);
      break;
    case ClassId.exchange:
      method = decodeExchange(r, methodId);
      break;
    case ClassId.queue:
      method = decodeQueue(r, methodId);
      break;
    case ClassId.confirm:
      method = decodeConfirm(r, methodId);
      break;
    case ClassId.tx:
      method = decodeTx(r, methodId);
      break;
    case ClassId.access:
      method = decodeAccess(r, methodId);
      break;
  }
  if (method === undefined) {
    throw new AmqpError(ReplyCode.commandInvalid, `unknown method: class ${classId}, method ${methodId}`, { classId, methodId });
  }
  return method;
}

/** Writes the arguments of m (not its ids). The casts are safe: METHOD_IDS ties each name to its class. */
export function encodeMethodArgs(w: ByteWriter, m: Method): void {
  switch (METHOD_IDS[m.name].classId) {
    case ClassId.basic:
      return encodeBasic(w, m as BasicMethod);
    case ClassId.connection:
      return encodeConnection(w, m as ConnectionMethod);
    case ClassId.channel:
      return encodeChannel(w, m as ChannelMethod);
    case ClassId.exchange:
      return encodeExchange(w, m as ExchangeMethod);
    case ClassId.queue:
      return encodeQueue(w, m as QueueMethod);
    case ClassId.confirm:
      return encodeConfirm(w, m as ConfirmMethod);
    case ClassId.access:
      return encodeAccess(w, m as AccessMethod);
    case ClassId.tx:
      return; // no tx method has arguments
  }
}
