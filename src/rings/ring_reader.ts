import { assert } from "./assert.ts";
import {
  HEAD_SLOT,
  PADDING_MARKER,
  READER_SLEEPING_SLOT,
  RECORD_HEADER_BYTES,
  RING_HEADER_BYTES,
  TAIL_SLOT,
  WRITER_WAITING_SLOT,
  maxRecordBytes,
  recordSlotBytes,
  ringCapacityBytes,
} from "./ring_layout.ts";

/**
 * The single consumer side of a ring (see ring_layout.ts). Usage per batch:
 *   while ((off = next()) >= 0) use u8/view[off..off+recordLength)
 *   release(); await waitForData();
 * A payload returned by next() stays valid until release(): the writer
 * never overwrites bytes the reader has not released.
 * Never blocks the thread: the only wait is Atomics.waitAsync.
 */
export class RingReader {
  readonly u8: Uint8Array;
  readonly view: DataView;
  private readonly slots: Int32Array;
  private readonly capacity_bytes: number;
  private readonly position_mask: number;
  private readonly max_record_bytes: number;
  /** Local head: everything next() consumed, released or not. */
  private head = 0;
  private head_released = 0;
  /** Last tail seen; only ever behind the real tail. */
  private tail_seen = 0;
  private record_length_bytes = 0;
  private waiting_for_data = false;

  constructor(sab: SharedArrayBuffer) {
    this.capacity_bytes = ringCapacityBytes(sab);
    this.position_mask = this.capacity_bytes - 1;
    this.max_record_bytes = maxRecordBytes(this.capacity_bytes);
    this.slots = new Int32Array(sab, 0, RING_HEADER_BYTES / Int32Array.BYTES_PER_ELEMENT);
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES, this.capacity_bytes);
    this.view = new DataView(sab, RING_HEADER_BYTES, this.capacity_bytes);
    this.head = Atomics.load(this.slots, HEAD_SLOT);
    this.head_released = this.head;
    this.tail_seen = Atomics.load(this.slots, TAIL_SLOT);
  }

  /** Payload length of the record last returned by next(). */
  get recordLength(): number {
    return this.record_length_bytes;
  }

  /** Offset of the next record's payload, or -1 when no published record remains. */
  next(): number {
    for (;;) {
      if (this.head === this.tail_seen) {
        this.tail_seen = Atomics.load(this.slots, TAIL_SLOT);
        if (this.head === this.tail_seen) return -1;
      }
      const position = this.head & this.position_mask;
      const length_bytes = this.view.getInt32(position, true);
      if (length_bytes === PADDING_MARKER) {
        this.head = (this.head + this.capacity_bytes - position) | 0;
        continue;
      }
      assert(length_bytes >= 0 && length_bytes <= this.max_record_bytes, "corrupt record length");
      this.record_length_bytes = length_bytes;
      this.head = (this.head + recordSlotBytes(length_bytes)) | 0;
      return position + RECORD_HEADER_BYTES;
    }
  }

  /** Hand everything next() returned back to the writer: one store, one notify only if it waits. */
  release(): void {
    if (this.head === this.head_released) return;
    this.head_released = this.head;
    Atomics.store(this.slots, HEAD_SLOT, this.head);
    // Pairs with waitForSpace()'s store-flag-then-load-head (both seq-cst).
    if (
      Atomics.load(this.slots, WRITER_WAITING_SLOT) !== 0 &&
      Atomics.compareExchange(this.slots, WRITER_WAITING_SLOT, 1, 0) === 1
    ) {
      Atomics.notify(this.slots, HEAD_SLOT);
    }
  }

  /**
   * Resolves when a published record is there. Releases first: a writer
   * waiting for space on unreleased records would otherwise never publish.
   */
  async waitForData(): Promise<void> {
    assert(!this.waiting_for_data, "one waitForData at a time");
    this.release();
    this.waiting_for_data = true;
    try {
      for (;;) {
        this.tail_seen = Atomics.load(this.slots, TAIL_SLOT);
        if (this.tail_seen !== this.head) return;
        Atomics.store(this.slots, READER_SLEEPING_SLOT, 1);
        // Re-check after announcing (pairs with publish()'s store-tail-then-load-flag).
        const tail = Atomics.load(this.slots, TAIL_SLOT);
        if (tail === this.head) {
          const result = Atomics.waitAsync(this.slots, TAIL_SLOT, tail);
          if (result.async) await result.value;
        }
        // The writer clears the flag before notifying; clear it for the other exits too.
        Atomics.store(this.slots, READER_SLEEPING_SLOT, 0);
      }
    } finally {
      this.waiting_for_data = false;
    }
  }
}
