import type { Segment } from "./segment.ts";

/** Where a live message's record lies and which queues still hold it. */
export class MessageEntry {
  /** Set only while replaying: the payload handed to the sink once replay knows it is live. */
  replay_payload: Uint8Array | undefined;

  constructor(
    readonly msgId: number,
    readonly seq: number,
    readonly segment: Segment,
    readonly record_offset: number,
    readonly record_bytes: number,
    readonly payload_offset: number,
    readonly payload_bytes: number,
    /** Queues still holding the message; delivered[i] belongs to queues[i]. */
    readonly queues: string[],
    readonly delivered: boolean[],
  ) {
    if (queues.length !== delivered.length) throw new Error("journal: queues and delivered flags differ in length");
  }
}

/**
 * The journal's view of which messages are live: the same state machine serves replay
 * (fed from records) and normal operation (fed from the API), so both agree by construction.
 * It also keeps each segment's live count and release seq, which decide segment deletion.
 */
export class MessageIndex {
  private readonly entries = new Map<number, MessageEntry>();
  /** queue → msgIds it holds; lets dropQueue touch only that queue's messages. */
  private readonly byQueue = new Map<string, Set<number>>();
  /** Sum of record_bytes over live messages. */
  live_bytes = 0;

  get size(): number {
    return this.entries.size;
  }

  get(msgId: number): MessageEntry | undefined {
    return this.entries.get(msgId);
  }

  /** Throws unless a message with this id and queue list may be added. */
  assertAddable(msgId: number, queues: readonly string[]): void {
    if (this.entries.has(msgId)) throw new Error(`journal: message ${msgId} is already live`);
    if (queues.length === 0) throw new Error(`journal: message ${msgId} has no queue`);
    if (queues.length > 1 && new Set(queues).size !== queues.length) throw new Error(`journal: message ${msgId} lists a queue twice`);
  }

  add(entry: MessageEntry): void {
    this.assertAddable(entry.msgId, entry.queues);
    this.entries.set(entry.msgId, entry);
    for (const queue of entry.queues) this.queueSet(queue).add(entry.msgId);
    entry.segment.live_count++;
    this.live_bytes += entry.record_bytes;
  }

  /** A message copied forward: the new record supersedes any older one of the same msgId. */
  replace(entry: MessageEntry): void {
    const old = this.entries.get(entry.msgId);
    if (old !== undefined) {
      for (const queue of old.queues) this.unlinkFromQueue(queue, old.msgId);
      this.kill(old, entry.seq);
    }
    this.add(entry);
  }

  /** Takes the messages out of one queue; ids not live in that queue are ignored. */
  remove(queue: string, msgIds: readonly number[], seq: number): void {
    const set = this.byQueue.get(queue);
    if (set === undefined) return;
    for (const msgId of msgIds) {
      if (!set.delete(msgId)) continue;
      const entry = this.entries.get(msgId);
      if (entry === undefined) throw new Error(`journal: queue ${queue} holds unknown message ${msgId}`);
      this.dropFromEntry(entry, queue, seq);
    }
    if (set.size === 0) this.byQueue.delete(queue);
  }

  markDelivered(queue: string, msgIds: readonly number[]): void {
    const set = this.byQueue.get(queue);
    if (set === undefined) return;
    for (const msgId of msgIds) {
      if (!set.has(msgId)) continue;
      const entry = this.entries.get(msgId);
      if (entry === undefined) throw new Error(`journal: queue ${queue} holds unknown message ${msgId}`);
      entry.delivered[entry.queues.indexOf(queue)] = true;
    }
  }

  dropQueue(queue: string, seq: number): void {
    const set = this.byQueue.get(queue);
    if (set === undefined) return;
    this.byQueue.delete(queue);
    for (const msgId of set) {
      const entry = this.entries.get(msgId);
      if (entry === undefined) throw new Error(`journal: queue ${queue} holds unknown message ${msgId}`);
      this.dropFromEntry(entry, queue, seq);
    }
  }

  /** Live messages in msgId order: per queue that is FIFO order, requeued ones included. */
  liveInMsgIdOrder(): MessageEntry[] {
    const live = Array.from(this.entries.values());
    // Log order is msgId order except for messages rewritten forward; skip the sort when
    // nothing was (the common case), since sorting a million entries costs ~100 ms.
    for (let i = 1; i < live.length; i++) {
      if (live[i - 1]!.msgId > live[i]!.msgId) return live.sort((a, b) => a.msgId - b.msgId);
    }
    return live;
  }

  private queueSet(queue: string): Set<number> {
    let set = this.byQueue.get(queue);
    if (set === undefined) {
      set = new Set();
      this.byQueue.set(queue, set);
    }
    return set;
  }

  private unlinkFromQueue(queue: string, msgId: number): void {
    const set = this.byQueue.get(queue);
    if (set === undefined) return;
    set.delete(msgId);
    if (set.size === 0) this.byQueue.delete(queue);
  }

  private dropFromEntry(entry: MessageEntry, queue: string, seq: number): void {
    const at = entry.queues.indexOf(queue);
    if (at < 0) throw new Error(`journal: message ${entry.msgId} is not in queue ${queue}`);
    entry.queues.splice(at, 1);
    entry.delivered.splice(at, 1);
    if (entry.queues.length === 0) this.kill(entry, seq);
  }

  private kill(entry: MessageEntry, seq: number): void {
    this.entries.delete(entry.msgId);
    const segment = entry.segment;
    segment.live_count--;
    if (segment.live_count < 0) throw new Error(`journal: segment ${segment.num} live count below zero`);
    segment.release_seq = Math.max(segment.release_seq, seq);
    this.live_bytes -= entry.record_bytes;
  }
}
