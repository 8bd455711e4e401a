// A growable big-endian byte buffer: the primitive writes shared by the frame writer, the
// field-table encoder and the property encoder.

import { AmqpError, ReplyCode } from "./errors.ts";
import { SHORTSTR_MAX_BYTES } from "./constants.ts";

const TWO_POW_32 = 4294967296;
const UINT64_MAX = 2n ** 64n - 1n;
/** A writer never grows past this; a frame is at most a frame-max (u32) anyway. */
const WRITER_MAX_BYTES = 2 ** 31;
/** Worst-case UTF-8 bytes per UTF-16 code unit. */
const UTF8_MAX_BYTES_PER_UNIT = 3;

const utf8 = new TextEncoder();

export class ByteWriter {
  u8: Uint8Array;
  view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(readonly initial_bytes = 4096) {
    this.u8 = new Uint8Array(initial_bytes);
    this.view = new DataView(this.u8.buffer);
  }

  /** Makes room for extra_bytes more, doubling the buffer when needed. */
  ensure(extra_bytes: number): void {
    const needed = this.length + extra_bytes;
    if (needed <= this.u8.length) return;
    if (needed > WRITER_MAX_BYTES) {
      throw new AmqpError(ReplyCode.internalError, `writer would grow to ${needed} bytes (limit ${WRITER_MAX_BYTES})`);
    }
    let size = Math.max(this.u8.length * 2, 64);
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.u8.subarray(0, this.length));
    this.u8 = grown;
    this.view = new DataView(grown.buffer);
  }

  // The put* methods assume ensure() already reserved room; the write* methods reserve it.

  putU8(value: number): void {
    this.u8[this.length++] = value;
  }

  putU16(value: number): void {
    const p = this.length;
    this.u8[p] = value >>> 8;
    this.u8[p + 1] = value;
    this.length = p + 2;
  }

  putU32(value: number): void {
    this.view.setUint32(this.length, value);
    this.length += 4;
  }

  /** Unsigned 64-bit from a non-negative safe integer. */
  putU64(value: number): void {
    const high = Math.floor(value / TWO_POW_32);
    this.view.setUint32(this.length, high);
    this.view.setUint32(this.length + 4, value - high * TWO_POW_32);
    this.length += 8;
  }

  writeU8(value: number): void {
    this.ensure(1);
    this.putU8(value);
  }

  writeU16(value: number): void {
    this.ensure(2);
    this.putU16(value);
  }

  writeU32(value: number): void {
    this.ensure(4);
    this.putU32(value);
  }

  writeU64(value: number): void {
    this.ensure(8);
    this.putU64(value);
  }

  /** Unsigned 64-bit over its full range, from a bigint (timestamps). */
  writeU64Big(value: bigint): void {
    if (value < 0n || value > UINT64_MAX) throw new AmqpError(ReplyCode.internalError, `${value} is outside the unsigned 64-bit range`);
    this.ensure(8);
    this.view.setBigUint64(this.length, value);
    this.length += 8;
  }

  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.u8.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A shortstr: one length octet, then UTF-8; over 255 bytes is a bug of the caller. */
  writeShortStr(value: string): void {
    this.ensure(1 + value.length * UTF8_MAX_BYTES_PER_UNIT);
    const start = this.length;
    this.length = start + 1;
    this.putUtf8(value);
    const size_bytes = this.length - start - 1;
    if (size_bytes > SHORTSTR_MAX_BYTES) {
      this.length = start;
      throw new AmqpError(ReplyCode.internalError, `shortstr of ${size_bytes} bytes exceeds ${SHORTSTR_MAX_BYTES}`);
    }
    this.u8[start] = size_bytes;
  }

  /** A longstr: u32 length, then UTF-8. */
  writeLongStr(value: string): void {
    this.ensure(4 + value.length * UTF8_MAX_BYTES_PER_UNIT);
    const start = this.length;
    this.length = start + 4;
    this.putUtf8(value);
    this.view.setUint32(start, this.length - start - 4);
  }

  /** A longstr holding raw bytes. */
  writeLongBytes(bytes: Uint8Array): void {
    this.ensure(4 + bytes.length);
    this.putU32(bytes.length);
    this.u8.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** UTF-8 of value; room for 3 bytes per code unit must be reserved. ASCII is copied inline. */
  private putUtf8(value: string): void {
    const u8 = this.u8;
    let p = this.length;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        const { written } = utf8.encodeInto(value.substring(i), u8.subarray(p));
        this.length = p + written;
        return;
      }
      u8[p++] = c;
    }
    this.length = p;
  }
}
