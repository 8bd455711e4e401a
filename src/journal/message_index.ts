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
 * The msgIds a queue was given, including some it has since lost: appending is a cheap push
 * and removal only a count, so the list is pruned once it is mostly stale. It exists so
 * dropQueue touches that queue's messages instead of every message of the shard.
 */
class QueueMembers {
  ids: number[] = [];
  live = 0;
}

function assertQueueList(msgId: number, queues: readonly string[]): void {
  if (queues.length === 0) throw new Error(`journal: message ${msgId} has no queue`);
  if (queues.length > 1 && new Set(queues).size !== queues.length) throw new Error(`journal: message ${msgId} lists a queue twice`);
}

/** Stale ids a member list may carry beyond twice its live count before it is pruned. */
const PRUNE_SLACK = 1024;

/**
 * The journal's view of which messages are live: the same state machine serves replay
 * (fed from records) and normal operation (fed from the API), so both agree by construction.
 * It also keeps each segment's live count and release seq, which decide segment deletion.
 */
export class MessageIndex {
  private readonly entries = new Map<number, MessageEntry>();
  private readonly byQueue = new Map<string, QueueMembers>();
  /** Sum of record_bytes over live messages. */
  live_bytes = 0;

  get(msgId: number): MessageEntry | undefined {
    return this.entries.get(msgId);
  }

  /** Throws unless a message with this id and queue list may be added. */
  assertAddable(msgId: number, queues: readonly string[]): void {
    if (this.entries.has(msgId)) throw new Error(`journal: message ${msgId} is already live`);
    assertQueueList(msgId, queues);
  }

  add(entry: MessageEntry): void {
    this.assertAddable(entry.msgId, entry.queues);
    this.entries.set(entry.msgId, entry);
    for (const queue of entry.queues) this.join(queue, entry.msgId);
    this.count(entry);
  }

  /** A message copied forward: the new record supersedes any older one of the same msgId. */
  replace(entry: MessageEntry): void {
    const old = this.entries.get(entry.msgId);
    if (old === undefined) return this.add(entry);
    assertQueueList(entry.msgId, entry.queues);
    this.entries.set(entry.msgId, entry);
    for (const queue of old.queues) if (!entry.queues.includes(queue)) this.leave(queue);
    for (const queue of entry.queues) if (!old.queues.includes(queue)) this.join(queue, entry.msgId);
    this.uncount(old, entry.seq);
    this.count(entry);
  }

  /** Takes the messages out of one queue; ids not live in that queue are ignored. */
  remove(queue: string, msgIds: readonly number[], seq: number): void {
    for (const msgId of msgIds) {
      const entry = this.entries.get(msgId);
      const at = entry?.queues.indexOf(queue) ?? -1;
      if (entry === undefined || at < 0) continue;
      this.leave(queue);
      this.dropFromEntry(entry, at, seq);
    }
  }

  markDelivered(queue: string, msgIds: readonly number[]): void {
    for (const msgId of msgIds) {
      const entry = this.entries.get(msgId);
      const at = entry?.queues.indexOf(queue) ?? -1;
      if (entry !== undefined && at >= 0) entry.delivered[at] = true;
    }
  }

  dropQueue(queue: string, seq: number): void {
    const members = this.byQueue.get(queue);
    if (members === undefined) return;
    this.byQueue.delete(queue);
    for (const msgId of members.ids) {
      const entry = this.entries.get(msgId);
      const at = entry?.queues.indexOf(queue) ?? -1;
      if (entry !== undefined && at >= 0) this.dropFromEntry(entry, at, seq);
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

  private join(queue: string, msgId: number): void {
    let members = this.byQueue.get(queue);
    if (members === undefined) {
      members = new QueueMembers();
      this.byQueue.set(queue, members);
    }
    members.ids.push(msgId);
    members.live++;
  }

  private leave(queue: string): void {
    const members = this.byQueue.get(queue);
    if (members === undefined) throw new Error(`journal: queue ${queue} has no members to lose`);
    members.live--;
    if (members.live === 0) this.byQueue.delete(queue);
    else if (members.ids.length > 2 * members.live + PRUNE_SLACK) {
      members.ids = members.ids.filter((id) => this.entries.get(id)?.queues.includes(queue) === true);
    }
  }

  /** Takes queue number `at` out of the entry; the message dies with its last queue. */
  private dropFromEntry(entry: MessageEntry, at: number, seq: number): void {
    entry.queues.splice(at, 1);
    entry.delivered.splice(at, 1);
    if (entry.queues.length > 0) return;
    this.entries.delete(entry.msgId);
    this.uncount(entry, seq);
  }

  private count(entry: MessageEntry): void {
    entry.segment.live_count++;
    this.live_bytes += entry.record_bytes;
  }

  /** The entry's record no longer holds a live message as of `seq`. */
  private uncount(entry: MessageEntry, seq: number): void {
    const segment = entry.segment;
    segment.live_count--;
    if (segment.live_count < 0) throw new Error(`journal: segment ${segment.num} live count below zero`);
    segment.release_seq = Math.max(segment.release_seq, seq);
    this.live_bytes -= entry.record_bytes;
  }
}
