// connection (class 10): the handshake, tuning, blocking and close of a connection.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { FieldTable } from "../table.ts";
import { readTable, writeTable } from "../table.ts";
import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface ConnectionStart {
  name: "connection.start";
  versionMajor: number;
  versionMinor: number;
  serverProperties: FieldTable;
  mechanisms: string;
  locales: string;
}

export interface ConnectionStartOk {
  name: "connection.start-ok";
  clientProperties: FieldTable;
  mechanism: string;
  response: Uint8Array;
  locale: string;
}

export interface ConnectionSecure {
  name: "connection.secure";
  challenge: Uint8Array;
}

export interface ConnectionSecureOk {
  name: "connection.secure-ok";
  response: Uint8Array;
}

export interface ConnectionTune {
  name: "connection.tune";
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

export interface ConnectionTuneOk {
  name: "connection.tune-ok";
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

export interface ConnectionOpen {
  name: "connection.open";
  virtualHost: string;
}

export interface ConnectionOpenOk {
  name: "connection.open-ok";
}

export interface ConnectionClose {
  name: "connection.close";
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}

export interface ConnectionCloseOk {
  name: "connection.close-ok";
}

export interface ConnectionBlocked {
  name: "connection.blocked";
  reason: string;
}

export interface ConnectionUnblocked {
  name: "connection.unblocked";
}

export interface ConnectionUpdateSecret {
  name: "connection.update-secret";
  newSecret: Uint8Array;
  reason: string;
}

export interface ConnectionUpdateSecretOk {
  name: "connection.update-secret-ok";
}

export type ConnectionMethod =
  | ConnectionStart
  | ConnectionStartOk
  | ConnectionSecure
  | ConnectionSecureOk
  | ConnectionTune
  | ConnectionTuneOk
  | ConnectionOpen
  | ConnectionOpenOk
  | ConnectionClose
  | ConnectionCloseOk
  | ConnectionBlocked
  | ConnectionUnblocked
  | ConnectionUpdateSecret
  | ConnectionUpdateSecretOk;

/** Decodes the arguments of method `methodId` of class connection; undefined when the id is unknown. */
export function decodeConnection(r: Reader, methodId: number): ConnectionMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "connection.start";
      const versionMajor = r.u8();
      const versionMinor = r.u8();
      const serverProperties = readTable(r);
      const mechanisms = r.longStr();
      const locales = r.longStr();
      r.done();
      return { name: "connection.start", versionMajor, versionMinor, serverProperties, mechanisms, locales };
    }
    case 11: {
      r.what = "connection.start-ok";
      const clientProperties = readTable(r);
      const mechanism = r.shortStr();
      const response = r.longBytes();
      const locale = r.shortStr();
      r.done();
      return { name: "connection.start-ok", clientProperties, mechanism, response, locale };
    }
    case 20: {
      r.what = "connection.secure";
      const challenge = r.longBytes();
      r.done();
      return { name: "connection.secure", challenge };
    }
    case 21: {
      r.what = "connection.secure-ok";
      const response = r.longBytes();
      r.done();
      return { name: "connection.secure-ok", response };
    }
    case 30: {
      r.what = "connection.tune";
      const channelMax = r.u16();
      const frameMax = r.u32();
      const heartbeat = r.u16();
      r.done();
      return { name: "connection.tune", channelMax, frameMax, heartbeat };
    }
    case 31: {
      r.what = "connection.tune-ok";
      const channelMax = r.u16();
      const frameMax = r.u32();
      const heartbeat = r.u16();
      r.done();
      return { name: "connection.tune-ok", channelMax, frameMax, heartbeat };
    }
    case 40: {
      r.what = "connection.open";
      const virtualHost = r.shortStr();
      r.skip(r.u8(), "capabilities");
      r.skip(1, "reserved bits");
      r.done();
      return { name: "connection.open", virtualHost };
    }
    case 41: {
      r.what = "connection.open-ok";
      r.skip(r.u8(), "known-hosts");
      r.done();
      return { name: "connection.open-ok" };
    }
    case 50: {
      r.what = "connection.close";
      const replyCode = r.u16();
      const replyText = r.shortStr();
      const classId = r.u16();
      const methodId = r.u16();
      r.done();
      return { name: "connection.close", replyCode, replyText, classId, methodId };
    }
    case 51: {
      r.what = "connection.close-ok";
      r.done();
      return { name: "connection.close-ok" };
    }
    case 60: {
      r.what = "connection.blocked";
      const reason = r.shortStr();
      r.done();
      return { name: "connection.blocked", reason };
    }
    case 61: {
      r.what = "connection.unblocked";
      r.done();
      return { name: "connection.unblocked" };
    }
    case 70: {
      r.what = "connection.update-secret";
      const newSecret = r.longBytes();
      const reason = r.shortStr();
      r.done();
      return { name: "connection.update-secret", newSecret, reason };
    }
    case 71: {
      r.what = "connection.update-secret-ok";
      r.done();
      return { name: "connection.update-secret-ok" };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeConnection(w: ByteWriter, m: ConnectionMethod): void {
  switch (m.name) {
    case "connection.start":
      w.writeU8(m.versionMajor);
      w.writeU8(m.versionMinor);
      writeTable(w, m.serverProperties);
      w.writeLongStr(m.mechanisms);
      w.writeLongStr(m.locales);
      return;
    case "connection.start-ok":
      writeTable(w, m.clientProperties);
      w.writeShortStr(m.mechanism);
      w.writeLongBytes(m.response);
      w.writeShortStr(m.locale);
      return;
    case "connection.secure":
      w.writeLongBytes(m.challenge);
      return;
    case "connection.secure-ok":
      w.writeLongBytes(m.response);
      return;
    case "connection.tune":
      w.writeU16(m.channelMax);
      w.writeU32(m.frameMax);
      w.writeU16(m.heartbeat);
      return;
    case "connection.tune-ok":
      w.writeU16(m.channelMax);
      w.writeU32(m.frameMax);
      w.writeU16(m.heartbeat);
      return;
    case "connection.open":
      w.writeShortStr(m.virtualHost);
      w.writeU8(0);
      w.writeU8(0);
      return;
    case "connection.open-ok":
      w.writeU8(0);
      return;
    case "connection.close":
      w.writeU16(m.replyCode);
      w.writeShortStr(m.replyText);
      w.writeU16(m.classId);
      w.writeU16(m.methodId);
      return;
    case "connection.blocked":
      w.writeShortStr(m.reason);
      return;
    case "connection.update-secret":
      w.writeLongBytes(m.newSecret);
      w.writeShortStr(m.reason);
      return;
    case "connection.close-ok":
    case "connection.unblocked":
    case "connection.update-secret-ok":
      return;
  }
}
