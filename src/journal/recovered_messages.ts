// One queue's messages as a restart found them, read from the journal's segments only when the
// queue needs them (its memory window drains down to them), not at start-up: start-up rebuilds
// the segments' bits and hold counts, and a queue of a hundred million messages is ready as soon
// as that is done. Reads are sequential, a 1 MiB window at a time, skipping other queues'
// records; messages compaction copied forward (REWRITE) are merged in by msgId, so the queue
// gets its messages in msgId order (FIFO) either way.
//
// Handed-out payloads refer into the read buffer, unless the buffer is mostly other queues' records
// (less than a quarter of it is this take's payloads): then they are copied into one compact buffer
// per take, so a queue whose records are sparse in the journal does not keep a 1 MiB read buffer
// alive per message in its memory window. A referenced buffer is thus at most 4x the payloads that
// were handed out of it.
//
// The segments it still has to read are pinned: compaction leaves them alone (it would move
// records out from under the reader), and they hold live messages so they are not deleted.
import * as fs from "node:fs";
import { preadFully } from "./file_io.ts";
import type { MessageIndex, MovedRecord } from "./message_index.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import { decodeRecord } from "./record_decoder.ts";
import { HEADER_BYTES, RecordType } from "./record_format.ts";
import type { Segment } from "./segment.ts";

/** Bytes read from a segment at a time; a longer record gets a read of its own size. */
const READ_WINDOW_BYTES = 1024 * 1024;
/** Payloads taken out of a read buffer are copied unless they are at least 1/this of it. */
const SPARSE_FRACTION = 4;

/** A recovered message: payload = buf[at, at + length), valid as long as buf is referenced. */
export type RecoveredSink = (msgId: number, buf: Uint8Array, at: number, length: number, redelivered: boolean) => void;

interface Moved {
  readonly msgId: number;
  readonly delivered: boolean;
  readonly record: MovedRecord;
}

export class RecoveredMessages {
  /** Messages not yet handed out. */
  count: number;
  /** Estimated payload bytes of those (per-message sizes are not kept in memory). */
  private bytes_estimate: number;
  private segmentAt = 0;
  private movedAt = 0;
  private fd: number | null = null;
  private window = new Uint8Array(0);
  private view = new DataView(this.window.buffer);
  /** File offset of window[0], and of the next record to look at. */
  private windowStart = 0;
  private offset = 0;
  /** The next live native message, once found (peeked ahead of the moved ones). */
  private next: { msgId: number; at: number; length: number; delivered: boolean } | null = null;
  private closed = false;
  /** Native messages of the current take out of `pendingBuf`, not yet handed to the sink. */
  private readonly pending: { msgId: number; at: number; length: number; delivered: boolean }[] = [];
  private pendingBuf: Uint8Array | null = null;
  private pendingBytes = 0;

  constructor(
    readonly queue: string,
    /** Segments holding this queue's native records, oldest first. */
    private readonly segments: readonly Segment[],
    private readonly moved: readonly Moved[],
    count: number,
    bytes_estimate: number,
    private readonly index: MessageIndex,
    private readonly codec: QueueNameCodec,
  ) {
    this.count = count;
    this.bytes_estimate = bytes_estimate;
    for (const s of segments) s.pins++;
    for (const m of moved) m.record.segment.pins++;
  }

  /** Estimated payload bytes of the messages not yet handed out. */
  get estimatedBytes(): number {
    return this.count === 0 ? 0 : this.bytes_estimate;
  }

  /** Hands up to `max` messages to `each`, in msgId order; returns how many. */
  take(max: number, each: RecoveredSink): number {
    let taken = 0;
    try {
      while (taken < max && this.count > 0) {
        const native = this.peekNative();
        const moved = this.moved[this.movedAt];
        if (moved !== undefined && (native === null || moved.msgId < native.msgId)) {
          this.movedAt++;
          moved.record.segment.pins--;
          const payload = readAt(moved.record.segment, moved.record.payload_offset, moved.record.payload_bytes);
          this.flush(each); // the ones ahead of it first: msgId order
          this.account();
          each(moved.msgId, payload, 0, payload.length, moved.delivered);
        } else if (native !== null) {
          this.next = null;
          if (this.pendingBuf !== this.window) this.flush(each);
          this.pendingBuf = this.window;
          this.pending.push(native);
          this.pendingBytes += native.length;
          this.account();
        } else {
          break; // the counts promised more than the segments hold: stop rather than spin
        }
        taken++;
      }
    } finally {
      this.flush(each); // also when a read throws: what was counted out reaches the queue
    }
    if (this.count === 0 || taken < max) this.close(); // all read (or the counts promised more than the files hold)
    return taken;
  }

  /**
   * Hands the pending native messages to the sink: referring into their read buffer when they are
   * a fair share of it, else copied into one buffer of their own (see the header).
   */
  private flush(each: RecoveredSink): void {
    const buf = this.pendingBuf;
    if (buf === null) return;
    const pending = this.pending;
    if (this.pendingBytes * SPARSE_FRACTION >= buf.length) {
      for (const m of pending) each(m.msgId, buf, m.at, m.length, m.delivered);
    } else {
      const compact = new Uint8Array(this.pendingBytes);
      let at = 0;
      for (const m of pending) {
        compact.set(buf.subarray(m.at, m.at + m.length), at);
        each(m.msgId, compact, at, m.length, m.delivered);
        at += m.length;
      }
    }
    pending.length = 0;
    this.pendingBuf = null;
    this.pendingBytes = 0;
  }

  /** Releases the files and pins (the queue was deleted, purged or is fully read). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeFd();
    for (let i = this.segmentAt; i < this.segments.length; i++) this.segments[i]!.pins--;
    for (let i = this.movedAt; i < this.moved.length; i++) this.moved[i]!.record.segment.pins--;
    this.segmentAt = this.segments.length;
    this.movedAt = this.moved.length;
    this.count = 0;
  }

  /** One message leaves the count (and its share of the estimate). */
  private account(): void {
    const share = this.bytes_estimate / this.count;
    this.count--;
    this.bytes_estimate = Math.max(0, this.bytes_estimate - share);
  }

  /** The next live native record of this queue (scanning forward), or null when none is left. */
  private peekNative(): { msgId: number; at: number; length: number; delivered: boolean } | null {
    while (this.next === null && this.segmentAt < this.segments.length) {
      const segment = this.segments[this.segmentAt]!;
      if (this.offset >= segment.size_bytes) {
        this.closeFd();
        segment.pins--;
        this.segmentAt++;
        this.offset = 0;
        this.windowStart = 0;
        this.window = new Uint8Array(0);
        continue;
      }
      const resume = segment.skips?.get(this.offset);
      if (resume !== undefined) {
        this.offset = resume;
        continue;
      }
      this.fd ??= fs.openSync(segment.path, "r");
      if (!this.has(this.offset, HEADER_BYTES)) this.load(this.offset, HEADER_BYTES);
      const local = this.offset - this.windowStart;
      const record_bytes = this.view.getUint32(local, true);
      if (!this.has(this.offset, record_bytes)) this.load(this.offset, record_bytes);
      const at = this.offset - this.windowStart;
      const record = decodeRecord(this.view, this.window, at, at + record_bytes, this.codec);
      if (record === undefined) throw new Error(`journal: ${segment.path} at ${this.offset}: record no longer reads back`);
      const fileOffset = this.offset;
      this.offset += record_bytes;
      if (record.type !== RecordType.ENQUEUE || !record.queues.includes(this.queue)) continue;
      const hold = this.index.liveHold(segment, fileOffset, record.msgId, this.queue, false);
      if (hold === undefined) continue;
      this.next = { msgId: record.msgId, at: at + record.payload_offset, length: record.payload_bytes, delivered: hold.delivered };
    }
    return this.next;
  }

  private has(offset: number, length: number): boolean {
    return offset >= this.windowStart && offset + length <= this.windowStart + this.window.length;
  }

  /** Reads the window from `offset`: at least `length` bytes (or to the end of the segment). */
  private load(offset: number, length: number): void {
    const segment = this.segments[this.segmentAt]!;
    const size = Math.min(Math.max(READ_WINDOW_BYTES, length), segment.size_bytes - offset);
    // A fresh buffer each time: messages handed out keep referring to the previous one.
    const buf = new Uint8Array(size);
    const done = preadFully(this.fd!, buf, offset);
    if (done < size) throw new Error(`journal: ${segment.path} ends at ${offset + done}, before ${offset + size}`);
    this.window = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.windowStart = offset;
  }

  private closeFd(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** pread of a payload (a rewritten message's). */
function readAt(segment: Segment, offset: number, length: number): Uint8Array {
  const fd = fs.openSync(segment.path, "r");
  try {
    const buf = new Uint8Array(length);
    if (preadFully(fd, buf, offset) < length) throw new Error(`journal: ${segment.path} ends before ${offset + length}`);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
