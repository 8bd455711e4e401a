// A growable little builder and a reusable cursor for the binary records that cross the rings.
// Both are allocation-free on the steady path: the builder grows by doubling and is reused; the
// cursor is reset onto each record in place.

import { copyBytes } from "../copy_bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RecordBuilder {
  u8: Uint8Array;
  view: DataView;
  length = 0;

  constructor(initial_bytes = 64 * 1024) {
    this.u8 = new Uint8Array(initial_bytes);
    this.view = new DataView(this.u8.buffer);
  }

  reset(): this {
    this.length = 0;
    return this;
  }

  ensure(extra_bytes: number): void {
    const need = this.length + extra_bytes;
    if (need <= this.u8.length) return;
    let size = this.u8.length * 2;
    while (size < need) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.u8.subarray(0, this.length));
    this.u8 = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8v(v: number): this {
    this.ensure(1);
    this.u8[this.length++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
    return this;
  }

  /** A string of at most 255 UTF-8 bytes (AMQP shortstr), as u8 length + bytes. */
  str8(s: string): this {
    this.ensure(1 + s.length * 3);
    const lenAt = this.length++;
    const n = writeUtf8(s, this.u8, this.length);
    if (n > 255) throw new Error("str8 longer than 255 bytes");
    this.u8[lenAt] = n;
    this.length += n;
    return this;
  }

  /** A string of any length as u32 length + UTF-8 bytes. */
  str32(s: string): this {
    this.ensure(4 + s.length * 3);
    const n = writeUtf8(s, this.u8, this.length + 4);
    this.view.setUint32(this.length, n);
    this.length += 4 + n;
    return this;
  }

  bytes(src: Uint8Array, offset: number, length: number): this {
    this.ensure(length);
    copyBytes(this.u8, this.length, src, offset, length);
    this.length += length;
    return this;
  }
}

/** Writes `s` as UTF-8 at `at`; returns the byte count. ASCII takes a plain loop (no encoder call). */
function writeUtf8(s: string, out: Uint8Array, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encodeInto(s, out.subarray(at)).written;
    out[at + i] = c;
  }
  return n;
}

export class RecordCursor {
  u8: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.u8.buffer);
  pos = 0;
  end = 0;

  reset(u8: Uint8Array, view: DataView, offset: number, length: number): this {
    this.u8 = u8;
    this.view = view;
    this.pos = offset;
    this.end = offset + length;
    return this;
  }

  u8v(): number {
    return this.u8[this.pos++]!;
  }

  u16(): number {
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  str8(): string {
    const n = this.u8[this.pos++]!;
    return this.text(n);
  }

  str32(): string {
    const n = this.u32();
    return this.text(n);
  }

  /** A view of the next `n` bytes (no copy). */
  view8(n: number): Uint8Array {
    const v = this.u8.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  private text(n: number): string {
    const start = this.pos;
    this.pos += n;
    let ascii = true;
    for (let i = start; i < this.pos; i++) {
      if (this.u8[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii || n > 64) return decoder.decode(this.u8.subarray(start, this.pos));
    return String.fromCharCode.apply(null, this.u8.subarray(start, this.pos) as unknown as number[]);
  }
}
