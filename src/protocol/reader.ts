// A cursor over a byte range of a frame payload. Decoders reset one shared Reader and read
// field by field; nothing is allocated per read except the values themselves.
//
// Every overrun throws AmqpError 501 FRAME_ERROR "cannot decode <what>: ...": RabbitMQ
// answers any method frame its decoder cannot match with frame_error "cannot decode ~w"
// (rabbit_misc:frame_error/2), naming the method it was decoding.

import { AmqpError, ReplyCode } from "./errors.ts";
import type { MethodIds } from "./methods.ts";

const EMPTY = new Uint8Array(0);
const TWO_POW_32 = 4294967296;
/** Largest high word of a u64 whose value stays below 2^53. */
const SAFE_HIGH_WORD_MAX = 0x1fffff;

// Bun's TextDecoder beats a JS ASCII loop even for 8-byte strings (measured), so every
// string goes through it. Method fields use the fatal one: RabbitMQ asserts UTF-8 on them.
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const utf8Lossy = new TextDecoder("utf-8");

// Floats are read by copying their octets here: no DataView per payload buffer.
const floatScratch = new Uint8Array(8);
const floatView = new DataView(floatScratch.buffer);

/** Strings up to this many bytes are interned (see Reader.interned); slots are a power of two. */
const INTERN_MAX_BYTES = 64;
const INTERN_SLOTS = 256;
const internBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INTERN_SLOTS);
const internStrings: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS);

export class Reader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  /** Index one past the last readable byte. */
  end = 0;
  /** What is being decoded ("basic.publish", "content header"), for error text. */
  what = "";
  classId = 0;
  methodId = 0;

  /** Points the cursor at buf[offset, offset+length). */
  reset(buf: Uint8Array, offset: number, length: number, what: string, classId = 0, methodId = 0): void {
    if (offset < 0 || length < 0 || offset + length > buf.length) {
      throw new AmqpError(ReplyCode.internalError, `range ${offset}+${length} outside a ${buf.length}-byte buffer`);
    }
    this.buf = buf;
    this.pos = offset;
    this.end = offset + length;
    this.what = what;
    this.classId = classId;
    this.methodId = methodId;
  }

  /** The ids its errors carry, as read off the wire (they may name no known method). */
  private ids(): MethodIds {
    return { classId: this.classId, methodId: this.methodId };
  }

  fail(problem: string): never {
    throw new AmqpError(ReplyCode.frameError, `cannot decode ${this.what}: ${problem}`, this.ids());
  }

  /** Throws unless n more bytes are readable. */
  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      this.fail(`${field} of ${n} bytes at offset ${this.pos} runs past the end (${this.end - this.pos} left)`);
    }
  }

  /** Throws when bytes are left over: RabbitMQ's decoders match the whole payload. */
  done(): void {
    if (this.pos !== this.end) this.fail(`${this.end - this.pos} unexpected trailing bytes`);
  }

  u8(): number {
    this.need(1, "octet");
    return this.buf[this.pos++]!;
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }

  u16(): number {
    this.need(2, "short");
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  i16(): number {
    return (this.u16() << 16) >> 16;
  }

  u32(): number {
    this.need(4, "long");
    return this.u32Unchecked();
  }

  i32(): number {
    return this.u32() | 0;
  }

  /** Unsigned 64-bit; values beyond 2^53 are refused (delivery tags, body sizes never get there). */
  u64(): number {
    this.need(8, "longlong");
    const high = this.u32Unchecked();
    const low = this.u32Unchecked();
    if (high > SAFE_HIGH_WORD_MAX) this.fail(`longlong ${(BigInt(high) << 32n) | BigInt(low)} exceeds 2^53`);
    return high * TWO_POW_32 + low;
  }

  /** Unsigned 64-bit over its full range, exactly (timestamps). */
  u64Big(): bigint {
    this.need(8, "longlong");
    const high = this.u32Unchecked();
    return (BigInt(high) << 32n) | BigInt(this.u32Unchecked());
  }

  /** Signed 64-bit: a number when it is a safe integer, else a bigint. */
  i64(): number | bigint {
    this.need(8, "longlong");
    const high = this.u32Unchecked() | 0;
    const low = this.u32Unchecked();
    const value = high * TWO_POW_32 + low;
    return Number.isSafeInteger(value) ? value : BigInt(high) * 4294967296n + BigInt(low);
  }

  f32(): number {
    this.copyToScratch(4, "float");
    return floatView.getFloat32(0);
  }

  f64(): number {
    this.copyToScratch(8, "double");
    return floatView.getFloat64(0);
  }

  /** A shortstr that must be valid UTF-8 (method fields; RabbitMQ's assert_utf8). */
  shortStr(): string {
    const length = this.u8();
    this.need(length, "shortstr");
    return this.utf8(length, true, "shortstr");
  }

  /** A shortstr decoded leniently (table keys, properties: RabbitMQ keeps them as raw binaries). */
  shortStrLossy(): string {
    const length = this.u8();
    this.need(length, "shortstr");
    return this.utf8(length, false, "shortstr");
  }

  /** A longstr as UTF-8 text, leniently decoded. */
  longStr(): string {
    const length = this.u32();
    this.need(length, "longstr");
    return this.utf8(length, false, "longstr");
  }

  /** A longstr as bytes, copied: the payload is only valid while the frame is being handled. */
  longBytes(): Uint8Array {
    const length = this.u32();
    this.need(length, "longstr");
    return this.copy(length);
  }

  /** Copies the next n bytes (bounds already checked by the caller). */
  copy(n: number): Uint8Array {
    const start = this.pos;
    this.pos = start + n;
    return this.buf.slice(start, start + n);
  }

  /**
   * Short strings repeat on the hot path (every publish carries its exchange and routing key):
   * a direct-mapped cache keyed by the bytes' hash returns the string decoded before, after
   * comparing the bytes, so a publish allocates no new string for a key seen recently.
   */
  private interned(start: number, length: number, field: string): string {
    const buf = this.buf;
    let h = 0x811c9dc5;
    for (let i = start; i < start + length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h >>> 0) & (INTERN_SLOTS - 1);
    const cached = internBytes[slot];
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (cached[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return internStrings[slot]!;
    }
    let text: string;
    try {
      text = utf8Strict.decode(buf.subarray(start, start + length));
    } catch {
      throw new AmqpError(ReplyCode.frameError, `Malformed UTF-8 in ${field}`, this.ids());
    }
    internBytes[slot] = buf.slice(start, start + length);
    internStrings[slot] = text;
    return text;
  }

  /** Skips n bytes, checked. */
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  private utf8(length: number, strict: boolean, field: string): string {
    const start = this.pos;
    this.pos = start + length;
    if (length === 0) return "";
    if (strict && length <= INTERN_MAX_BYTES) return this.interned(start, length, field);
    const bytes = this.buf.subarray(start, start + length);
    if (!strict) return utf8Lossy.decode(bytes);
    try {
      return utf8Strict.decode(bytes);
    } catch {
      // RabbitMQ: frame_error "Malformed UTF-8 in shortstr" (rabbit_binary_parser:assert_utf8).
      throw new AmqpError(ReplyCode.frameError, `Malformed UTF-8 in ${field}`, this.ids());
    }
  }

  private u32Unchecked(): number {
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  private copyToScratch(n: number, field: string): void {
    this.need(n, field);
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) floatScratch[i] = b[p + i]!;
    this.pos = p + n;
  }
}
