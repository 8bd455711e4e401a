import * as path from "node:path";

const SEGMENT_NAME = /^(\d{10})\.seg$/;
/** Ten digits in the file name; at 64 MiB a segment that is 640 EB of appends. */
const SEGMENT_NUM_MAX = 9_999_999_999;

export function segmentFileName(num: number): string {
  return `${String(num).padStart(10, "0")}.seg`;
}

/** The segment number a file name encodes, or undefined for files that are not segments. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Bitmaps start with room for this many msgIds and double. */
const BITMAP_INITIAL_BITS = 1024;

/**
 * One append-only segment file and the in-memory accounting that decides when it can go.
 * Nothing here is persisted: replay rebuilds it from the records.
 *
 * Its own message records (ENQUEUE) cover the msgIds first_msg_id..last_msg_id in increasing
 * order (msgIds are issued and journaled in one step); a bit per msgId of that range says whether
 * the message is gone and whether it was delivered. Holds are counted per queue: a message held
 * by three queues is three holds until each lets it go.
 */
export class Segment {
  readonly path: string;
  /** Bytes appended, including those still in the write batch: the next record's file offset. */
  size_bytes = 0;
  /** Holds (message × queue) of this segment's records that are still live. */
  live_count = 0;
  /** Live holds per queue. */
  readonly holds = new Map<string, number>();
  /** Holds ever counted here: with live_count, the share of the file still live. */
  private holds_ever = 0;
  /** msgId range of this segment's ENQUEUE records; 0 while it has none. */
  first_msg_id = 0;
  last_msg_id = 0;
  /**
   * Which queue each message record is for, run-length encoded: messages runStarts[i].. (up to
   * the next run) went to runQueues[i]. A long backlog of one queue is one run per segment;
   * traffic alternating between queues costs a run per switch.
   */
  private readonly runStarts: number[] = [];
  private readonly runQueues: string[] = [];
  private gone: Uint8Array = new Uint8Array(BITMAP_INITIAL_BITS / 8);
  private delivered: Uint8Array = new Uint8Array(BITMAP_INITIAL_BITS / 8);
  /** Seq of the last record appended to this segment. */
  last_seq = 0;
  /**
   * Seq of the latest record that took a message of this segment out of the live set
   * (remove, drop, or rewrite forward). The file may be deleted only once that record is
   * durable, or a crash could bring back a state where the message is live but its
   * bytes are gone.
   */
  release_seq = 0;
  /** Damaged ranges replay skipped (start → resume offset), which readers skip as well. */
  skips: Map<number, number> | null = null;
  /** Readers of recovered messages still to read this segment: compaction leaves it alone. */
  pins = 0;
  /** Open descriptor: read/write for segments this process created, read-only otherwise. */
  fd: number | undefined;

  constructor(
    readonly num: number,
    dir: string,
  ) {
    if (!Number.isSafeInteger(num) || num < 1 || num > SEGMENT_NUM_MAX) throw new RangeError(`journal: bad segment number ${num}`);
    this.path = path.join(dir, segmentFileName(num));
  }

  /** An ENQUEUE of msgId, the highest so far, was appended here; `queue` is its (first) queue. */
  addMessage(msgId: number, queue: string): void {
    if (this.first_msg_id === 0) this.first_msg_id = msgId;
    if (msgId <= this.last_msg_id) throw new Error(`journal: message ${msgId} is not after ${this.last_msg_id} in segment ${this.num}`);
    this.last_msg_id = msgId;
    if (this.runQueues.at(-1) !== queue) {
      this.runStarts.push(msgId);
      this.runQueues.push(queue);
    }
    const bytes = ((msgId - this.first_msg_id) >>> 3) + 1;
    if (bytes > this.gone.length) {
      let size = this.gone.length;
      while (size < bytes) size *= 2;
      this.gone = grown(this.gone, size);
      this.delivered = grown(this.delivered, size);
    }
  }

  /** Adds (delta > 0) or releases (delta < 0, at `seq`) holds of a queue. */
  hold(queue: string, delta: number, seq = 0): void {
    const n = (this.holds.get(queue) ?? 0) + delta;
    if (n < 0) throw new Error(`journal: segment ${this.num} holds of ${queue} below zero`);
    if (n === 0) this.holds.delete(queue);
    else this.holds.set(queue, n);
    this.live_count += delta;
    if (delta > 0) this.holds_ever += delta;
    else this.release(seq);
  }

  /** The (first) queue of one of this segment's message records. */
  queueOf(msgId: number): string | undefined {
    const starts = this.runStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= msgId) lo = mid;
      else hi = mid - 1;
    }
    return starts.length === 0 || starts[lo]! > msgId ? undefined : this.runQueues[lo];
  }

  /** Every hold of the queue goes (its drop record is at `seq`). */
  dropHolds(queue: string, seq: number): void {
    const n = this.holds.get(queue);
    if (n === undefined) return;
    this.holds.delete(queue);
    this.live_count -= n;
    this.release(seq);
  }

  /** A record at `seq` took something live out of this segment. */
  release(seq: number): void {
    this.release_seq = Math.max(this.release_seq, seq);
  }

  /** The message is one of this segment's own and not gone. */
  isLive(msgId: number): boolean {
    if (msgId < this.first_msg_id || msgId > this.last_msg_id || this.first_msg_id === 0) return false;
    const i = msgId - this.first_msg_id;
    return (this.gone[i >>> 3]! & (1 << (i & 7))) === 0;
  }

  isDelivered(msgId: number): boolean {
    const i = msgId - this.first_msg_id;
    return (this.delivered[i >>> 3]! & (1 << (i & 7))) !== 0;
  }

  markGone(msgId: number): void {
    if (msgId < this.first_msg_id || msgId > this.last_msg_id) return;
    const i = msgId - this.first_msg_id;
    this.gone[i >>> 3]! |= 1 << (i & 7);
  }

  markDelivered(msgId: number): void {
    if (!this.isLive(msgId)) return;
    const i = msgId - this.first_msg_id;
    this.delivered[i >>> 3]! |= 1 << (i & 7);
  }

  /** Everything replay would rebuild, for the index snapshot (index_snapshot.ts). */
  state(): SegmentState {
    return {
      num: this.num,
      size_bytes: this.size_bytes,
      last_seq: this.last_seq,
      release_seq: this.release_seq,
      live_count: this.live_count,
      holds_ever: this.holds_ever,
      first_msg_id: this.first_msg_id,
      last_msg_id: this.last_msg_id,
      holds: [...this.holds],
      runStarts: this.runStarts.slice(),
      runQueues: this.runQueues.slice(),
      skips: this.skips === null ? [] : [...this.skips],
      gone: this.gone,
      delivered: this.delivered,
    };
  }

  /** A segment as a snapshot recorded it. */
  static restore(state: SegmentState, dir: string): Segment {
    const s = new Segment(state.num, dir);
    s.size_bytes = state.size_bytes;
    s.last_seq = state.last_seq;
    s.release_seq = state.release_seq;
    s.live_count = state.live_count;
    s.holds_ever = state.holds_ever;
    s.first_msg_id = state.first_msg_id;
    s.last_msg_id = state.last_msg_id;
    for (const [queue, n] of state.holds) s.holds.set(queue, n);
    s.runStarts.push(...state.runStarts);
    s.runQueues.push(...state.runQueues);
    if (state.skips.length > 0) s.skips = new Map(state.skips);
    s.gone = state.gone;
    s.delivered = state.delivered;
    return s;
  }

  /** The file's bytes scaled by the share of its holds still live. */
  liveBytesEstimate(): number {
    return this.holds_ever === 0 ? 0 : (this.size_bytes * this.live_count) / this.holds_ever;
  }
}

export interface SegmentState {
  num: number;
  size_bytes: number;
  last_seq: number;
  release_seq: number;
  live_count: number;
  holds_ever: number;
  first_msg_id: number;
  last_msg_id: number;
  holds: [string, number][];
  runStarts: number[];
  runQueues: string[];
  skips: [number, number][];
  gone: Uint8Array;
  delivered: Uint8Array;
}

function grown(bits: Uint8Array, size: number): Uint8Array {
  const next = new Uint8Array(size);
  next.set(bits);
  return next;
}
