// Message envelopes live in shared slabs rather than one Uint8Array each: a million queued
// messages would otherwise be a million typed-array objects and backing stores (the bulk of a
// backlog's memory), and each publish would allocate one. A slab is dropped (left to the GC)
// once every message in it is gone; envelopes too large for a slab get an array of their own.

import { copyBytes } from "../copy_bytes.ts";

/** Slab size; envelopes over a quarter of it get their own array. */
const SLAB_BYTES = 256 * 1024;

export class Slab {
  readonly buf = new Uint8Array(SLAB_BYTES);
  used = 0;
  /** Holds on messages placed here: one from place() until released, one per queue entry. */
  live = 0;
}

export class SlabAllocator {
  private current = new Slab();
  /** Where the last place() put the bytes (read right after the call). */
  lastBuf: Uint8Array = this.current.buf;
  lastAt = 0;

  /** Copies src[at, at+length) into a slab (returned) or a new array of its own (null returned). */
  place(src: Uint8Array, at: number, length: number): Slab | null {
    if (length > SLAB_BYTES / 4) {
      this.lastBuf = src.slice(at, at + length);
      this.lastAt = 0;
      return null;
    }
    if (this.current.used + length > SLAB_BYTES) this.current = new Slab();
    const slab = this.current;
    copyBytes(slab.buf, slab.used, src, at, length);
    this.lastBuf = slab.buf;
    this.lastAt = slab.used;
    slab.used += length;
    slab.live++;
    return slab;
  }

  /** One more holder (a queue entry) of a message placed in the slab. */
  hold(slab: Slab): void {
    slab.live++;
  }

  /** One holder of the slab is gone; the current slab starts over once it is empty. */
  release(slab: Slab): void {
    slab.live--;
    if (slab.live === 0 && slab === this.current) slab.used = 0;
  }
}
