import { invariant } from "../invariant.ts";
import { RingEnd } from "./ring_end.ts";
import {
  HEAD_SLOT,
  PADDING_MARKER,
  READER_SLEEPING_SLOT,
  RECORD_HEADER_BYTES,
  TAIL_SLOT,
  WRITER_WAITING_SLOT,
  recordSlotBytes,
} from "./ring_layout.ts";

/**
 * The single consumer side of a ring (see ring_layout.ts). Usage per batch:
 *   while ((off = next()) >= 0) use u8/view[off..off+recordLength)
 *   release(); await waitForData();
 * A payload returned by next() stays valid until release(): the writer
 * never overwrites bytes the reader has not released.
 * Never blocks the thread: the only wait is Atomics.waitAsync.
 */
export class RingReader extends RingEnd {
  /** Local head: everything next() consumed, released or not. */
  private head = 0;
  private head_released = 0;
  /** Last tail seen; only ever behind the real tail. */
  private tail_seen = 0;
  private record_length_bytes = 0;
  private waiting_for_data = false;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
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
      invariant(length_bytes >= 0 && length_bytes <= this.maxRecordBytes, "ring", "corrupt record length");
      this.record_length_bytes = length_bytes;
      this.head = (this.head + recordSlotBytes(length_bytes)) | 0;
      return position + RECORD_HEADER_BYTES;
    }
  }

  /** Hand everything next() returned back to the writer: one store, one notify only if it waits. */
  release(): void {
    if (this.head === this.head_released) return;
    this.head_released = this.head;
    this.storeAndWake(HEAD_SLOT, WRITER_WAITING_SLOT, this.head);
  }

  /**
   * Resolves when a published record is there. Releases first: a writer
   * waiting for space on unreleased records would otherwise never publish.
   */
  async waitForData(): Promise<void> {
    invariant(!this.waiting_for_data, "ring", "one waitForData at a time");
    this.release();
    this.waiting_for_data = true;
    try {
      for (;;) {
        this.tail_seen = Atomics.load(this.slots, TAIL_SLOT);
        if (this.tail_seen !== this.head) return;
        await this.sleepWhile(READER_SLEEPING_SLOT, TAIL_SLOT, (tail) => tail === this.head);
      }
    } finally {
      this.waiting_for_data = false;
    }
  }
}
