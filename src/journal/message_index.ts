// The journal's view of which messages are live, at a cost per segment, not per message: a
// message record is found by its msgId (each segment's own message records cover an increasing
// msgId range), and its state is a bit in its segment's bitmaps ("gone", "delivered") plus the
// segment's count of live holds per queue. A hundred million queued messages cost ~25 MB of bits.
// Only two kinds of message are tracked one by one: those held by more than one queue (fanout to
// durable queues on one shard) and those copied forward by compaction (REWRITE); both are few.
//
// The same state machine serves replay (fed from records) and normal operation (fed from the
// API), so both agree by construction. A queue's drop is a tombstone: every message of that
// queue with a msgId up to the drop's high-water mark is gone, whatever its bits say.
import type { Segment } from "./segment.ts";

/** A message held by more than one queue, or one whose live record is a REWRITE. */
export interface TrackedMessage {
  /** Queues still holding it; delivered[i] belongs to queues[i]. */
  readonly queues: string[];
  readonly delivered: boolean[];
  /** Set for a rewritten message: where its live record is. */
  readonly moved: MovedRecord | null;
}

export interface MovedRecord {
  readonly segment: Segment;
  readonly record_offset: number;
  readonly record_bytes: number;
  readonly payload_offset: number;
  readonly payload_bytes: number;
}

export interface IndexState {
  tracked: [number, string[], boolean[], [number, number, number, number, number] | null][];
  dropped: [string, number][];
  /** Segments the index knows (ever held a message record), by number. */
  known: number[];
}

/** A live hold of a message by a queue. */
export interface LiveHold {
  readonly delivered: boolean;
}

export class MessageIndex {
  /** Segments that ever held a message record, oldest first (deleted ones leave). */
  private readonly segments: Segment[] = [];

  /** Messages tracked one by one, by msgId. */
  private readonly tracked = new Map<number, TrackedMessage>();
  /** Queue → highest msgId issued when it was last dropped. */
  private readonly dropped = new Map<string, number>();
  /** Segments with message records of their own, oldest first: their msgId ranges increase. */
  private readonly ranged: Segment[] = [];

  /** Sum over segments of their bytes, scaled by the share of their holds still live. */
  get live_bytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.liveBytesEstimate();
    return total;
  }

  /** A message record appended (or replayed) in `segment`: every queue holds it, none delivered. */
  addNative(segment: Segment, msgId: number, queues: readonly string[]): void {
    this.know(segment);
    if (segment.first_msg_id === 0) this.ranged.push(segment);
    segment.addMessage(msgId, queues[0]!);
    for (const queue of queues) segment.hold(queue, 1);
    if (queues.length > 1) this.tracked.set(msgId, { queues: queues.slice(), delivered: queues.map(() => false), moved: null });
  }

  /**
   * A REWRITE appended (or replayed) in `segment`: the message's live state now lives there, with
   * these queues and delivered flags; the record that held them before (its original, or an
   * earlier rewrite) holds nothing any more.
   */
  addMoved(segment: Segment, msgId: number, queues: readonly string[], delivered: readonly boolean[], record: MovedRecord, seq: number): void {
    const t = this.tracked.get(msgId);
    const previous = t?.moved?.segment ?? this.segmentOf(msgId);
    if (previous !== undefined) {
      for (const queue of t?.queues ?? queues) previous.hold(queue, -1, seq);
      if (t?.moved == null) previous.markGone(msgId);
    }
    this.know(segment);
    for (const queue of queues) segment.hold(queue, 1);
    this.tracked.set(msgId, { queues: queues.slice(), delivered: delivered.slice(), moved: record });
  }

  /** Takes the messages out of one queue; ids not live in that queue are ignored. */
  remove(queue: string, msgIds: readonly number[], seq: number): void {
    for (const msgId of msgIds) this.removeOne(queue, msgId, seq);
  }

  markDelivered(queue: string, msgIds: readonly number[]): void {
    for (const msgId of msgIds) {
      const t = this.tracked.get(msgId);
      if (t !== undefined) {
        const at = t.queues.indexOf(queue);
        if (at >= 0) t.delivered[at] = true;
        continue;
      }
      const segment = this.segmentOf(msgId);
      if (segment?.queueOf(msgId) === queue) segment.markDelivered(msgId);
    }
  }

  /** Every message of the queue up to `highMsgId` is gone (a drop record at `seq`). */
  dropQueue(queue: string, highMsgId: number, seq: number): void {
    this.dropped.set(queue, Math.max(highMsgId, this.dropped.get(queue) ?? 0));
    for (const segment of this.segments) segment.dropHolds(queue, seq);
    for (const [msgId, t] of this.tracked) {
      const at = t.queues.indexOf(queue);
      if (at < 0) continue;
      t.queues.splice(at, 1);
      t.delivered.splice(at, 1);
      // Its hold was counted in the segment's holds of the queue, just dropped.
      if (t.queues.length === 0) this.forgetTracked(msgId, t, seq);
    }
  }

  /**
   * Whether the message record of `msgId` for `queue` at (segment, offset) is a live hold, and if
   * so whether it was delivered; undefined when it is not live.
   */
  liveHold(segment: Segment, offset: number, msgId: number, queue: string, rewrite: boolean): LiveHold | undefined {
    if (msgId <= (this.dropped.get(queue) ?? 0)) return undefined;
    const t = this.tracked.get(msgId);
    if (t !== undefined) {
      if (t.moved !== null ? t.moved.segment !== segment || t.moved.record_offset !== offset : rewrite) return undefined;
      const at = t.queues.indexOf(queue);
      return at < 0 ? undefined : { delivered: t.delivered[at]! };
    }
    if (rewrite || !segment.isLive(msgId)) return undefined;
    return { delivered: segment.isDelivered(msgId) };
  }

  /** The live holds of the message record at (segment, offset), for compaction. */
  liveQueues(segment: Segment, offset: number, msgId: number, queues: readonly string[], rewrite: boolean): { queues: string[]; delivered: boolean[] } {
    const live: string[] = [];
    const delivered: boolean[] = [];
    for (const queue of queues) {
      const hold = this.liveHold(segment, offset, msgId, queue, rewrite);
      if (hold === undefined) continue;
      live.push(queue);
      delivered.push(hold.delivered);
    }
    return { queues: live, delivered };
  }

  /** Messages whose live record was rewritten forward, per queue in msgId order (recovery merges them in). */
  movedByQueue(): Map<string, { msgId: number; delivered: boolean; record: MovedRecord }[]> {
    const out = new Map<string, { msgId: number; delivered: boolean; record: MovedRecord }[]>();
    for (const [msgId, t] of this.tracked) {
      if (t.moved === null) continue;
      for (let i = 0; i < t.queues.length; i++) {
        let list = out.get(t.queues[i]!);
        if (list === undefined) out.set(t.queues[i]!, (list = []));
        list.push({ msgId, delivered: t.delivered[i]!, record: t.moved });
      }
    }
    for (const list of out.values()) list.sort((a, b) => a.msgId - b.msgId);
    return out;
  }

  private removeOne(queue: string, msgId: number, seq: number): void {
    if (msgId <= (this.dropped.get(queue) ?? 0)) return;
    const t = this.tracked.get(msgId);
    if (t !== undefined) {
      const at = t.queues.indexOf(queue);
      if (at < 0) return;
      t.queues.splice(at, 1);
      t.delivered.splice(at, 1);
      const segment = t.moved?.segment ?? this.segmentOf(msgId);
      segment?.hold(queue, -1, seq);
      if (t.queues.length === 0) this.forgetTracked(msgId, t, seq);
      return;
    }
    const segment = this.segmentOf(msgId);
    if (segment === undefined || !segment.isLive(msgId) || segment.queueOf(msgId) !== queue) return;
    segment.markGone(msgId);
    segment.hold(queue, -1, seq);
  }

  /** The last queue let a tracked message go. */
  private forgetTracked(msgId: number, t: TrackedMessage, seq: number): void {
    this.tracked.delete(msgId);
    if (t.moved === null) this.segmentOf(msgId)?.markGone(msgId);
    else t.moved.segment.release(seq);
  }

  /** The segment whose own message records cover msgId (binary search on their ranges). */
  segmentOf(msgId: number): Segment | undefined {
    const ranged = this.ranged;
    let lo = 0;
    let hi = ranged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = ranged[mid]!;
      if (msgId < s.first_msg_id) hi = mid - 1;
      else if (msgId > s.last_msg_id) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** What a snapshot needs besides the segments' own state. */
  state(): IndexState {
    const tracked: IndexState["tracked"] = [];
    for (const [msgId, t] of this.tracked) {
      const m = t.moved;
      tracked.push([msgId, t.queues, t.delivered, m === null ? null : [m.segment.num, m.record_offset, m.record_bytes, m.payload_offset, m.payload_bytes]]);
    }
    return { tracked, dropped: [...this.dropped], known: this.segments.map((s) => s.num) };
  }

  /** Restores the state() of an index whose segments are `segments` (replay from a snapshot). */
  restore(state: IndexState, segments: readonly Segment[]): void {
    const byNum = new Map(segments.map((s) => [s.num, s]));
    for (const num of state.known) {
      const s = byNum.get(num);
      if (s === undefined) throw new Error(`journal snapshot: segment ${num} is not on disk`);
      this.segments.push(s);
      if (s.first_msg_id !== 0) this.ranged.push(s);
    }
    for (const [queue, id] of state.dropped) this.dropped.set(queue, id);
    for (const [msgId, queues, delivered, m] of state.tracked) {
      let moved: MovedRecord | null = null;
      if (m !== null) {
        const segment = byNum.get(m[0]);
        if (segment === undefined) throw new Error(`journal snapshot: segment ${m[0]} is not on disk`);
        moved = { segment, record_offset: m[1], record_bytes: m[2], payload_offset: m[3], payload_bytes: m[4] };
      }
      this.tracked.set(msgId, { queues, delivered, moved });
    }
  }

  /** The oldest segment was deleted. */
  segmentDeleted(segment: Segment): void {
    if (this.ranged[0] === segment) this.ranged.shift();
    if (this.segments[0] === segment) this.segments.shift();
  }

  private know(segment: Segment): void {
    if (this.segments.at(-1) !== segment) this.segments.push(segment);
  }
}
