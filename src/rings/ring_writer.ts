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
 * The single producer side of a ring (see ring_layout.ts for the layout and
 * the counter arithmetic). Usage per batch:
 *   off = reserve(n) -> write payload at u8/view[off..off+n) -> commit(m <= n)
 *   ... more records ... -> publish()
 * When reserve() returns -1, await waitForSpace(n) and retry.
 * Never blocks the thread: the only wait is Atomics.waitAsync.
 */
export class RingWriter extends RingEnd {
  /** Local tail: includes committed and padding bytes not yet published. */
  private tail = 0;
  private tail_published = 0;
  /** Last head seen; only ever behind the real head, so room is never overestimated. */
  private head_seen = 0;
  /** Data-area position of the reserved record's header, -1 when none is reserved. */
  private reserved_position = -1;
  private reserved_bytes = 0;
  private waiting_for_space = false;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.tail = Atomics.load(this.slots, TAIL_SLOT);
    this.tail_published = this.tail;
    this.head_seen = Atomics.load(this.slots, HEAD_SLOT);
  }

  /** Committed (and padding) bytes the reader cannot see until publish(). */
  get pendingBytes(): number {
    return (this.tail - this.tail_published) | 0;
  }

  /** Bytes written (published or not) that the reader has not released yet. */
  get unreadBytes(): number {
    this.head_seen = Atomics.load(this.slots, HEAD_SLOT);
    return (this.tail - this.head_seen) | 0;
  }

  /**
   * Offset in u8/view of a contiguous, 8-byte aligned payload area of
   * size_bytes, or -1 if the ring lacks room now. A reservation not yet
   * committed is abandoned by the next reserve().
   */
  reserve(size_bytes: number): number {
    invariant(
      (size_bytes | 0) === size_bytes && size_bytes >= 0 && size_bytes <= this.maxRecordBytes,
      "ring",
      "reserve size out of range",
    );
    const position = this.tail & this.position_mask;
    const needed_bytes = this.bytesNeeded(size_bytes, position);
    if (!this.hasRoom(needed_bytes)) return -1;
    let record_position = position;
    if (needed_bytes !== recordSlotBytes(size_bytes)) {
      // The tail end is too short: mark it skipped, the record starts at 0.
      this.view.setInt32(position, PADDING_MARKER, true);
      this.tail = (this.tail + this.capacity_bytes - position) | 0;
      record_position = 0;
    }
    this.reserved_position = record_position;
    this.reserved_bytes = size_bytes;
    return record_position + RECORD_HEADER_BYTES;
  }

  /** Finish the reserved record with size_bytes <= the reserved size. Visible at the next publish(). */
  commit(size_bytes: number): void {
    invariant(this.reserved_position >= 0, "ring", "commit without reserve");
    invariant(
      (size_bytes | 0) === size_bytes && size_bytes >= 0 && size_bytes <= this.reserved_bytes,
      "ring",
      "commit larger than reserved",
    );
    this.view.setInt32(this.reserved_position, size_bytes, true);
    this.tail = (this.tail + recordSlotBytes(size_bytes)) | 0;
    this.reserved_position = -1;
  }

  /** Make the batch visible: one store of the tail, one notify only if the reader sleeps. */
  publish(): void {
    if (this.tail === this.tail_published) return;
    this.tail_published = this.tail;
    this.storeAndWake(TAIL_SLOT, READER_SLEEPING_SLOT, this.tail);
  }

  /**
   * Resolves once reserve(size_bytes) would succeed. Publishes pending
   * records first: the reader can only free space for records it can see,
   * so waiting with a full, unpublished ring would never end.
   */
  async waitForSpace(size_bytes: number): Promise<void> {
    invariant(
      (size_bytes | 0) === size_bytes && size_bytes >= 0 && size_bytes <= this.maxRecordBytes,
      "ring",
      "waitForSpace size out of range",
    );
    invariant(!this.waiting_for_space, "ring", "one waitForSpace at a time");
    this.publish();
    this.waiting_for_space = true;
    try {
      for (;;) {
        const needed_bytes = this.bytesNeeded(size_bytes, this.tail & this.position_mask);
        if (this.hasRoom(needed_bytes)) return;
        await this.sleepWhile(WRITER_WAITING_SLOT, HEAD_SLOT, (head) => {
          this.head_seen = head;
          return this.freeBytes() < needed_bytes;
        });
      }
    } finally {
      this.waiting_for_space = false;
    }
  }

  /** Bytes a record of size_bytes consumes when the tail is at position, padding included. */
  private bytesNeeded(size_bytes: number, position: number): number {
    const slot_bytes = recordSlotBytes(size_bytes);
    const to_end_bytes = this.capacity_bytes - position;
    return to_end_bytes < slot_bytes ? to_end_bytes + slot_bytes : slot_bytes;
  }

  private freeBytes(): number {
    return this.capacity_bytes - ((this.tail - this.head_seen) | 0);
  }

  /** Re-reads the shared head only when the cached one says there is no room. */
  private hasRoom(needed_bytes: number): boolean {
    if (this.freeBytes() >= needed_bytes) return true;
    this.head_seen = Atomics.load(this.slots, HEAD_SLOT);
    return this.freeBytes() >= needed_bytes;
  }
}
