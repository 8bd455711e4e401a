// Message envelopes live in shared slabs rather than one Uint8Array each: a million queued
// messages would otherwise be a million typed-array objects and backing stores (the bulk of a
// backlog's memory), and each publish would allocate one (a profile of 64 KiB messages had half
// of the shard's time in allocating them). A slab whose messages are all gone goes back to a
// small pool, or to the GC once the pool is full; envelopes too large for a slab get an array of
// their own.

import { copyBytes } from "../copy_bytes.ts";

/** Slab size; envelopes over a quarter of it (256 KiB) get their own array. */
const SLAB_BYTES = 1024 * 1024;
/** Empty slabs kept for reuse: a queue that keeps moving allocates none. */
const POOL_SLABS = 8;

export class Slab {
  readonly buf = new Uint8Array(SLAB_BYTES);
  used = 0;
  /**
   * Holds on the slab: one per message placed here, from place() until released, one per queue
   * entry, and one while it is the allocator's current slab (so a current slab is never pooled).
   */
  live = 1;
}

export class SlabAllocator {
  private current = new Slab();
  private readonly pool: Slab[] = [];
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
    if (this.current.used + length > SLAB_BYTES) {
      // The full slab lives on while its messages do; release() pools it when the last one goes.
      const old = this.current;
      this.current = this.pool.pop() ?? new Slab();
      this.current.live = 1;
      if (--old.live === 0) this.recycle(old);
    }
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

  /** One holder of the slab is gone; the current slab starts over once it is empty, another is pooled. */
  release(slab: Slab): void {
    slab.live--;
    if (slab === this.current) {
      if (slab.live === 1) slab.used = 0;
    } else if (slab.live === 0) {
      this.recycle(slab);
    }
  }

  private recycle(slab: Slab): void {
    slab.used = 0;
    if (this.pool.length < POOL_SLABS) this.pool.push(slab);
  }
}
