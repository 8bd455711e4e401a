// The content header frame and the 14 basic-class properties.
//
// Property flags: one u16, bit 15 = content-type down to bit 2 = cluster-id. RabbitMQ 3.x
// (rabbit_framing_amqp_0_9_1:decode_properties/2) reads exactly one flags word and ignores its
// two low bits, bit 0 being the continuation bit: the basic class has only 14 properties, so a
// second flags word never carries anything. We do the same: bit 0 is ignored, never followed.

import { AmqpError, ReplyCode } from "./errors.ts";
import { ByteWriter } from "./byte_writer.ts";
import { Reader } from "./reader.ts";
import { readTable, writeTable } from "./table.ts";
import type { FieldTable } from "./table.ts";

// The content header that carries the properties lives in content_header.ts; re-exported here
// so the broker finds the whole content-header API in one place.
export { decodeContentHeader, CONTENT_HEADER_FIXED_BYTES } from "./content_header.ts";
export type { ContentHeader } from "./content_header.ts";

export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch, any unsigned 64-bit value. */
  timestamp?: bigint;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/** Flag bit of each property, in wire order. */
export const PropertyFlag = {
  contentType: 0x8000,
  contentEncoding: 0x4000,
  headers: 0x2000,
  deliveryMode: 0x1000,
  priority: 0x0800,
  correlationId: 0x0400,
  replyTo: 0x0200,
  expiration: 0x0100,
  messageId: 0x0080,
  timestamp: 0x0040,
  type: 0x0020,
  userId: 0x0010,
  appId: 0x0008,
  clusterId: 0x0004,
} as const;

/** The bits RabbitMQ ignores: reserved bit 1 and continuation bit 0. */
const IGNORED_FLAG_BITS = 0x0003;

// Synchronous and never re-entered: one cursor for every call.
const reader = new Reader();

function start(raw: Uint8Array, offset: number, length: number): number {
  reader.reset(raw, offset, length, "basic properties", 60);
  return reader.u16() & ~IGNORED_FLAG_BITS;
}

/** Decodes property flags + values. Malformed input throws 501 FRAME_ERROR. */
export function decodeProperties(raw: Uint8Array, offset: number, length: number): BasicProperties {
  const flags = start(raw, offset, length);
  const r = reader;
  const p: BasicProperties = {};
  if (flags & PropertyFlag.contentType) p.contentType = r.shortStrLossy();
  if (flags & PropertyFlag.contentEncoding) p.contentEncoding = r.shortStrLossy();
  if (flags & PropertyFlag.headers) p.headers = readTable(r);
  if (flags & PropertyFlag.deliveryMode) p.deliveryMode = r.u8();
  if (flags & PropertyFlag.priority) p.priority = r.u8();
  if (flags & PropertyFlag.correlationId) p.correlationId = r.shortStrLossy();
  if (flags & PropertyFlag.replyTo) p.replyTo = r.shortStrLossy();
  if (flags & PropertyFlag.expiration) p.expiration = r.shortStrLossy();
  if (flags & PropertyFlag.messageId) p.messageId = r.shortStrLossy();
  if (flags & PropertyFlag.timestamp) p.timestamp = r.u64Big();
  if (flags & PropertyFlag.type) p.type = r.shortStrLossy();
  if (flags & PropertyFlag.userId) p.userId = r.shortStrLossy();
  if (flags & PropertyFlag.appId) p.appId = r.shortStrLossy();
  if (flags & PropertyFlag.clusterId) p.clusterId = r.shortStrLossy();
  r.done();
  return p;
}

/** Encodes property flags + values: the rawProperties of FrameWriter.contentHeader. */
export function encodeProperties(props: BasicProperties): Uint8Array {
  const w = new ByteWriter(64);
  writeProperties(w, props);
  return w.u8.slice(0, w.length);
}

/** Writes property flags + values at the writer's end. */
export function writeProperties(w: ByteWriter, props: BasicProperties): void {
  w.ensure(2);
  const flagsAt = w.length;
  w.length += 2;
  let flags = 0;
  if (props.contentType !== undefined) {
    flags |= PropertyFlag.contentType;
    w.writeShortStr(props.contentType);
  }
  if (props.contentEncoding !== undefined) {
    flags |= PropertyFlag.contentEncoding;
    w.writeShortStr(props.contentEncoding);
  }
  if (props.headers !== undefined) {
    flags |= PropertyFlag.headers;
    writeTable(w, props.headers);
  }
  if (props.deliveryMode !== undefined) {
    flags |= PropertyFlag.deliveryMode;
    w.writeU8(octet(props.deliveryMode, "delivery-mode"));
  }
  if (props.priority !== undefined) {
    flags |= PropertyFlag.priority;
    w.writeU8(octet(props.priority, "priority"));
  }
  if (props.correlationId !== undefined) {
    flags |= PropertyFlag.correlationId;
    w.writeShortStr(props.correlationId);
  }
  if (props.replyTo !== undefined) {
    flags |= PropertyFlag.replyTo;
    w.writeShortStr(props.replyTo);
  }
  if (props.expiration !== undefined) {
    flags |= PropertyFlag.expiration;
    w.writeShortStr(props.expiration);
  }
  if (props.messageId !== undefined) {
    flags |= PropertyFlag.messageId;
    w.writeShortStr(props.messageId);
  }
  if (props.timestamp !== undefined) {
    flags |= PropertyFlag.timestamp;
    w.writeU64Big(props.timestamp);
  }
  if (props.type !== undefined) {
    flags |= PropertyFlag.type;
    w.writeShortStr(props.type);
  }
  if (props.userId !== undefined) {
    flags |= PropertyFlag.userId;
    w.writeShortStr(props.userId);
  }
  if (props.appId !== undefined) {
    flags |= PropertyFlag.appId;
    w.writeShortStr(props.appId);
  }
  if (props.clusterId !== undefined) {
    flags |= PropertyFlag.clusterId;
    w.writeShortStr(props.clusterId);
  }
  w.u8[flagsAt] = flags >>> 8;
  w.u8[flagsAt + 1] = flags & 0xff;
}

function octet(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new AmqpError(ReplyCode.internalError, `${field} ${value} is not an octet`);
  }
  return value;
}

/**
 * Moves the cursor past every present property that precedes `wanted` (a PropertyFlag bit),
 * without decoding them. Returns whether `wanted` itself is present.
 */
function seek(flags: number, wanted: number): boolean {
  const r = reader;
  for (let bit: number = PropertyFlag.contentType; bit > wanted; bit >>>= 1) {
    if ((flags & bit) === 0) continue;
    switch (bit) {
      case PropertyFlag.headers:
        r.skip(r.u32(), "headers");
        break;
      case PropertyFlag.deliveryMode:
      case PropertyFlag.priority:
        r.skip(1, "octet");
        break;
      case PropertyFlag.timestamp:
        r.skip(8, "timestamp");
        break;
      default:
        r.skip(r.u8(), "shortstr");
    }
  }
  return (flags & wanted) !== 0;
}

/** delivery-mode, or 0 when absent. */
export function peekDeliveryMode(raw: Uint8Array, offset: number, length: number): number {
  return seek(start(raw, offset, length), PropertyFlag.deliveryMode) ? reader.u8() : 0;
}

export function peekHeaders(raw: Uint8Array, offset: number, length: number): FieldTable | undefined {
  return seek(start(raw, offset, length), PropertyFlag.headers) ? readTable(reader) : undefined;
}

export function peekPriority(raw: Uint8Array, offset: number, length: number): number | undefined {
  return seek(start(raw, offset, length), PropertyFlag.priority) ? reader.u8() : undefined;
}

export function peekExpiration(raw: Uint8Array, offset: number, length: number): string | undefined {
  return seek(start(raw, offset, length), PropertyFlag.expiration) ? reader.shortStrLossy() : undefined;
}

export function peekUserId(raw: Uint8Array, offset: number, length: number): string | undefined {
  return seek(start(raw, offset, length), PropertyFlag.userId) ? reader.shortStrLossy() : undefined;
}

export function peekReplyTo(raw: Uint8Array, offset: number, length: number): string | undefined {
  return seek(start(raw, offset, length), PropertyFlag.replyTo) ? reader.shortStrLossy() : undefined;
}

/** Where reply-to sits in raw properties (its length octet to its end), or undefined when absent. */
export function replyToRange(raw: Uint8Array, offset: number, length: number): { start: number; end: number } | undefined {
  if (!seek(start(raw, offset, length), PropertyFlag.replyTo)) return undefined;
  const at = reader.pos;
  reader.skip(reader.u8(), "shortstr");
  return { start: at, end: reader.pos };
}
