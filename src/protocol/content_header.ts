// The content header frame payload: class-id (u16), weight (u16, must be 0), body-size (u64),
// then property flags + values, which stay raw so a broker can forward them untouched.

import { AmqpError, ReplyCode } from "./errors.ts";
import { Reader } from "./reader.ts";

/** class-id + weight + body-size. */
export const CONTENT_HEADER_FIXED_BYTES = 12;

export interface ContentHeader {
  classId: number;
  /** Bytes of body to follow; at most 2^53 - 1. */
  bodySize: number;
  /** Where the raw property flags + values start in the decoded buffer, and their length. */
  propsOffset: number;
  propsLength: number;
}

const reader = new Reader();

/**
 * Decodes a content header payload into `into` (a fresh object when omitted; pass one to decode
 * allocation-free). A short payload throws 501 FRAME_ERROR, a body-size beyond 2^53 too;
 * a non-zero weight throws 505 UNEXPECTED_FRAME, as RabbitMQ's command assembler only accepts
 * weight 0 as a content header.
 */
export function decodeContentHeader(
  payload: Uint8Array,
  offset: number,
  length: number,
  into: ContentHeader = { classId: 0, bodySize: 0, propsOffset: 0, propsLength: 0 },
): ContentHeader {
  const r = reader;
  r.reset(payload, offset, length, "content header");
  const classId = r.u16();
  r.classId = classId;
  const weight = r.u16();
  if (weight !== 0) {
    throw new AmqpError(
      ReplyCode.unexpectedFrame,
      `expected content header for class ${classId}, got non content header frame instead`,
    );
  }
  into.classId = classId;
  into.bodySize = r.u64();
  into.propsOffset = r.pos;
  into.propsLength = r.end - r.pos;
  return into;
}
