// One queue shard: owns its queues' messages, consumers, unacknowledged deliveries, prefetch
// accounting and round-robin. It only ever hears from the acceptor through its inbound ring and
// answers through its outbound ring (records.ts). Work is batched: records are applied as they
// come, and at the end of each batch the shard delivers to every queue that may have changed,
// emits coalesced confirms and publishes the outbound ring once.
import type { Journal, RecoveredMessages } from "../journal/journal.ts";
import { AcceptorOutbox } from "../link/acceptor_outbox.ts";
import type { CreditSlots } from "../link/credit_slots.ts";
import { envelopeExpiration_ms } from "../link/envelope.ts";
import { ConsumeFlag, DeadLetterReason, PublishFlag, QueueFlag, Settle, type QueueLimits } from "../link/records.ts";
import type { RecordList, ShardRequests } from "../link/shard_inbox.ts";
import type { RecordSender } from "../rings/record_link.ts";
import { Consumer } from "./consumer.ts";
import { Deque } from "./deque.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { ALL_IN_MEMORY, minTtl, ShardQueue, type MemoryWindow } from "./queue.ts";
import { SlabAllocator } from "./slab.ts";

interface Unacked {
  readonly entry: QueueEntry;
  readonly queue: ShardQueue;
  /** null for basic.get deliveries (not counted against any prefetch). */
  readonly consumer: Consumer | null;
}

/** Something to tell the acceptor once the journal has synced up to `journalSeq`. */
interface Waiter {
  readonly journalSeq: number;
  /** confirm: channelId + publish seq; sync: reqId. */
  readonly kind: "confirm" | "sync";
  readonly id: number;
  readonly seq: number;
}

/**
 * Journal bytes appended but not yet written past which the shard stops taking records from the
 * acceptor until the journal catches up to half of it: the disk sets the pace, memory stays bounded.
 */
const JOURNAL_BACKLOG_BYTES = 64 * 1024 * 1024;

const NO_BYTES = new Uint8Array(0);

/**
 * Expired heads are swept when the earliest known head expiry is past (RabbitMQ times each queue's
 * head exactly, so a 100 ms TTL is dead-lettered about 100 ms after the publish). The longest gap
 * is the backstop for heads whose expiry the timer did not see (a message without a TTL in front
 * of ones with); the shortest bounds the sweeps a stream of distinct expiries costs (200 a second).
 */
const EXPIRY_SWEEP_MAX_GAP_MS = 100;
const EXPIRY_SWEEP_MIN_GAP_MS = 5;

/**
 * A queue with consumers whose ready backlog passes either mark is put in flow: its publishers are
 * not read until it is back under half of both (publish_flow.ts on the acceptor). The marks leave
 * consumers with prefetch in the thousands a backlog to take from while the publishers resume.
 */
const FLOW_HIGH_MESSAGES = 16384;
const FLOW_HIGH_BYTES = 16 * 1024 * 1024;

/** Deliveries written per queue per batch before moving on, so one busy queue can't starve others. */
const DELIVERIES_PER_QUEUE_PER_BATCH = 2048;

export class Shard implements ShardRequests {
  private readonly queues = new Map<number, ShardQueue>();
  private readonly consumers = new Map<number, Consumer>();
  private readonly consumersBySlot = new Map<number, Set<Consumer>>();
  private readonly unacked = new Map<number, Unacked>();
  private nextDeliveryId = 1;
  /** Message ids without a journal; with one, the journal issues them (they survive restarts). */
  private nextMessageId = 1;
  /** Seq of the last journal record appended (0 before any). */
  private lastJournalSeq = 0;
  /** Queues that may be able to deliver: new messages, new consumers or freed credit. */
  private readonly dirty = new Set<ShardQueue>();
  /** Highest publish seq settled per channel in this batch, sent as one confirm each. */
  private readonly confirms = new Map<number, number>();
  private readonly waiters = new Deque<Waiter>();
  /** Queues' messages in the journal at start-up, adopted when the acceptor declares their queue. */
  private readonly recovered = new Map<string, RecoveredMessages>();
  /** Journal work gathered during a batch and written as one record per queue. */
  private readonly removedIds = new Map<ShardQueue, number[]>();
  private readonly deliveredIds = new Map<ShardQueue, number[]>();
  private readonly out: AcceptorOutbox;
  private readonly dropped: QueueEntry[] = [];
  private readonly slabs = new SlabAllocator();
  /** The message being published: queues copy its fields, so one object serves every publish. */
  private readonly publishing: { -readonly [K in keyof Envelope]: Envelope[K] } = { id: 0, buf: NO_BYTES, at: 0, length: 0, slab: null, persistent: false };
  private reopenInflow: (() => void) | null = null;
  /** Queues with entries that carry an expiry, swept by sweepTimer while any exist. */
  private readonly expiringQueues = new Set<ShardQueue>();
  /** Dead-lettered journaled messages waiting for their targets (letGo → deadLettered). */
  private readonly handoffs = new Map<number, { queue: ShardQueue; entry: QueueEntry }>();
  private nextHandoffId = 1;
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the armed sweepTimer fires (Date.now() ms). */
  private sweepAt_ms = 0;
  private lastSweep_ms = 0;
  /** Queues still over a length limit after a capped trim pass (ShardQueue.trim), trimmed by trimTimer. */
  private readonly overLimit = new Set<ShardQueue>();
  private trimTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly sender: RecordSender,
    private readonly credits: CreditSlots,
    private readonly journal: Journal | null,
    private readonly window: MemoryWindow = ALL_IN_MEMORY,
  ) {
    this.out = new AcceptorOutbox(sender);
    sender.onDrained = () => this.onBatchEnd();
    if (journal !== null) {
      journal.onDurable = () => {
        this.releaseWaiters();
        this.sender.flush();
        if (this.reopenInflow !== null && journal.pending_bytes <= JOURNAL_BACKLOG_BYTES / 2) {
          this.reopenInflow();
          this.reopenInflow = null;
        }
      };
    }
  }

  /** Start-up: replays the journal; messages wait for their queue's declare. */
  recover(): { messages: number; elapsed_ms: number; fromSnapshot: boolean; recordsScanned: number } {
    if (this.journal === null) return { messages: 0, elapsed_ms: 0, fromSnapshot: false, recordsScanned: 0 };
    const stats = this.journal.replay({ queue: (name, messages) => this.recovered.set(name, messages) });
    return { messages: stats.messages, elapsed_ms: stats.elapsed_ms, fromSnapshot: stats.fromSnapshot, recordsScanned: stats.records_scanned };
  }

  /** The receiver's gate: closed while the journal has more than JOURNAL_BACKLOG_BYTES to write. */
  inflowGate(): Promise<void> | null {
    if (this.journal === null || this.journal.pending_bytes <= JOURNAL_BACKLOG_BYTES) return null;
    return new Promise<void>((resolve) => (this.reopenInflow = resolve));
  }

  /** End of an inbound batch (or the outbound ring drained): deliver, confirm, publish. */
  onBatchEnd(): void {
    this.writeJournalBatches();
    this.deliverDirty();
    this.writeJournalBatches();
    this.releaseWaiters();
    this.sender.flush();
  }

  declare(queueId: number, reqId: number, flags: number, key: string, args: QueueLimits): void {
    let queue = this.queues.get(queueId);
    if (queue === undefined) {
      queue = new ShardQueue(queueId, key, (flags & QueueFlag.durable) !== 0, args, (flags & QueueFlag.quorum) !== 0, this.window);
      this.queues.set(queueId, queue);
      this.adoptRecovered(queue);
    }
    if (reqId !== 0) this.out.declareOk(reqId, queue.messageCount, queue.consumers.length);
  }

  private adoptRecovered(queue: ShardQueue): void {
    const messages = this.recovered.get(queue.key);
    if (messages === undefined) return;
    this.recovered.delete(queue.key);
    queue.adopt(messages, Date.now());
    this.trim(queue, queue.trim(this.dropped));
    if (queue.expiring > 0) this.watchExpiry(queue, queue.ready.headExpiresAt_ms);
  }

  setLimits(queueId: number, limits: QueueLimits): void {
    const queue = this.queues.get(queueId);
    if (queue === undefined) return; // deleted meanwhile
    this.trim(queue, queue.setLimits(limits, this.dropped));
    if (queue.inFlow) this.updateFlow(queue);
  }

  /**
   * Lets go of what a trim pass dropped; `more`: the queue is still over its limit, so another
   * pass runs after whatever else is waiting (each pass is capped, see DROPS_PER_PASS).
   */
  private trim(queue: ShardQueue, more: boolean): void {
    this.discardDropped(queue, DeadLetterReason.maxlen);
    if (!more) {
      this.overLimit.delete(queue);
      return;
    }
    this.overLimit.add(queue);
    this.trimTimer ??= setTimeout(() => {
      this.trimTimer = null;
      for (const q of [...this.overLimit]) {
        if (q.deleted) this.overLimit.delete(q);
        else this.trim(q, q.trim(this.dropped));
        if (q.inFlow) this.updateFlow(q);
      }
      this.onBatchEnd();
    }, 0);
  }

  /** The durable queues are all declared: what none adopted belongs to queues that are gone. */
  recoveryDone(): void {
    for (const [key, messages] of this.recovered) {
      messages.close();
      if (this.journal !== null) this.lastJournalSeq = this.journal.dropQueue(key);
    }
    this.recovered.clear();
  }

  deleteQueue(queueId: number, reqId: number, ifEmpty: boolean): void {
    const queue = this.queues.get(queueId);
    if (queue === undefined) {
      if (reqId !== 0) this.out.deleteOk(reqId, true, 0);
      return;
    }
    if (ifEmpty && queue.messageCount > 0) {
      this.out.deleteOk(reqId, false, queue.messageCount);
      return;
    }
    const count = queue.messageCount;
    queue.deleted = true;
    // The journal drops the queue whole; only the slab holds go one by one.
    queue.discard((entry) => {
      if (entry.slab !== null) this.slabs.release(entry.slab);
    });
    for (const consumer of [...queue.consumers]) this.cancel(consumer.id);
    this.queues.delete(queueId);
    this.dirty.delete(queue);
    if (queue.durable && this.journal !== null) this.lastJournalSeq = this.journal.dropQueue(queue.key);
    if (reqId !== 0) this.out.deleteOk(reqId, true, count);
  }

  purge(queueId: number, reqId: number): void {
    const queue = this.queues.get(queueId);
    let purged = 0;
    if (queue !== undefined && queue.unacked === 0 && !this.handingOff(queue)) {
      // Nothing of the queue is out with a consumer or on its way to a dead-letter target, so
      // every message of it the journal holds is a ready one: one drop record removes exactly
      // the purged messages, and those on disk are let go unread. A crash after it brings none
      // of them back; messages published after it have higher msgIds and are kept.
      purged = queue.discard((entry) => {
        if (entry.slab !== null) this.slabs.release(entry.slab);
      });
      if (queue.durable && this.journal !== null) this.lastJournalSeq = this.journal.dropQueue(queue.key);
    } else if (queue !== undefined) {
      // Unacknowledged messages stay (purge takes ready ones only) and must survive a crash, so
      // each ready message's removal is journaled on its own.
      purged = queue.purge((entry) => this.forget(queue, entry));
    }
    if (queue?.inFlow === true) this.updateFlow(queue);
    if (reqId !== 0) this.out.purgeOk(reqId, purged);
  }

  /** Whether a dead-lettered message of the queue still waits for its targets (deadLettered). */
  private handingOff(queue: ShardQueue): boolean {
    for (const handoff of this.handoffs.values()) if (handoff.queue === queue) return true;
    return false;
  }

  publish(flags: number, channelId: number, seq: number, u8: Uint8Array, blobAt: number, blobLength: number, queueIds: RecordList): void {
    const n = queueIds.count;
    const persistent = (flags & PublishFlag.persistent) !== 0;
    // One copy out of the ring into a slab: the message outlives the record. The slab counts this
    // publish as a holder until the queues have taken their own holds (released below).
    const slab = this.slabs.place(u8, blobAt, blobLength);
    const env = this.publishing;
    env.id = this.journal === null ? this.nextMessageId++ : this.journal.nextMsgId();
    env.buf = this.slabs.lastBuf;
    env.at = this.slabs.lastAt;
    env.length = blobLength;
    env.slab = slab;
    const messageTtl_ms = (flags & PublishFlag.expires) !== 0 ? envelopeExpiration_ms(env.buf, env.at) : undefined;
    const now_ms = messageTtl_ms !== undefined || this.expiringQueues.size > 0 ? Date.now() : 0;
    let refused = false;
    let durableKeys: string[] | null = null;
    for (let i = 0; i < n; i++) {
      const queue = this.queues.get(queueIds.u32(i));
      if (queue === undefined) continue; // deleted while the publish was in flight: dropped
      // The entry's own persistence: the scratch envelope is copied into each queue it enters.
      env.persistent = persistent || queue.quorum;
      const ttl_ms = minTtl(messageTtl_ms, queue.limits.messageTtl_ms);
      const enqueued_ms = ttl_ms === undefined ? 0 : now_ms || Date.now();
      const expiresAt_ms = ttl_ms === undefined ? 0 : enqueued_ms + ttl_ms;
      const result = queue.enqueue(env, this.dropped, expiresAt_ms);
      if (result === "refused") {
        refused = true;
        // Never enqueued, so nothing to keep: the publisher gets its nack either way.
        if (queue.limits.overflow === "reject-publish-dlx" && queue.limits.deadLetterExchange !== undefined) this.out.deadLetter(queue.id, DeadLetterReason.maxlen, 0, env);
        continue;
      }
      if (result === "queued" && slab !== null) this.slabs.hold(slab);
      if (queue.overLimit) this.trim(queue, true); // far over its limit: trimmed in passes
      else this.discardDropped(queue, DeadLetterReason.maxlen);
      if (ttl_ms === 0) this.deliverOrExpire(queue, enqueued_ms);
      else if (expiresAt_ms !== 0) this.watchExpiry(queue, expiresAt_ms);
      if (env.persistent && queue.durable && this.journal !== null) (durableKeys ??= []).push(queue.key);
      if (queue.consumers.length > 0) {
        this.dirty.add(queue);
        this.updateFlow(queue);
      }
    }
    let journalSeq = 0;
    if (durableKeys !== null) {
      journalSeq = this.lastJournalSeq = this.journal!.enqueue(env.id, durableKeys, env.buf.subarray(env.at, env.at + env.length));
    }
    // After the journal copied the bytes: with no queue holding them the slab space is reused.
    if (slab !== null) this.slabs.release(slab);
    // Nor may the scratch keep them (a 128 MiB body has an array of its own).
    env.buf = NO_BYTES;
    env.slab = null;
    if ((flags & PublishFlag.confirm) === 0) return;
    if (refused) this.out.nack(channelId, seq);
    this.settleConfirm({ journalSeq, kind: "confirm", id: channelId, seq });
  }

  /** Confirms and syncs leave in order, each once the journal covers it. */
  private settleConfirm(w: Waiter): void {
    if (this.waiters.length === 0 && (this.journal === null || w.journalSeq <= this.journal.durableSeq)) {
      this.emit(w);
    } else {
      this.waiters.push(w);
    }
  }

  private releaseWaiters(): void {
    const durable = this.journal === null ? Infinity : this.journal.durableSeq;
    while (this.waiters.length > 0 && this.waiters.peek()!.journalSeq <= durable) this.emit(this.waiters.shift()!);
    for (const [channelId, seq] of this.confirms) this.out.confirm(channelId, seq);
    this.confirms.clear();
  }

  private emit(w: Waiter): void {
    if (w.kind === "sync") {
      this.out.syncOk(w.id);
    } else {
      this.confirms.set(w.id, w.seq);
    }
  }

  /** Shutdown: the journal made durable and its index snapshot written, then answered. */
  checkpoint(reqId: number): void {
    if (this.journal === null) {
      this.out.syncOk(reqId);
      return;
    }
    this.writeJournalBatches();
    this.journal.checkpoint().then(
      () => this.out.syncOk(reqId),
      (err: Error) => {
        console.error(`[warn] journal: no index snapshot written (${err.message}); the next start-up scans the segments`);
        this.out.syncOk(reqId);
      },
    ).finally(() => this.sender.flush());
  }

  /** tx.commit's barrier: answered once everything appended before it is durable. */
  sync(reqId: number): void {
    this.settleConfirm({ journalSeq: this.lastJournalSeq, kind: "sync", id: reqId, seq: 0 });
  }

  consume(queueId: number, consumerId: number, channelId: number, slot: number, prefetch: number, flags: number, priority: number): void {
    const queue = this.queues.get(queueId);
    if (queue === undefined) return; // deleted meanwhile; the acceptor cancels the consumer itself
    const consumer = new Consumer(consumerId, queue, channelId, slot, prefetch, (flags & ConsumeFlag.noAck) !== 0, priority);
    this.consumers.set(consumerId, consumer);
    let bySlot = this.consumersBySlot.get(slot);
    if (bySlot === undefined) this.consumersBySlot.set(slot, (bySlot = new Set()));
    bySlot.add(consumer);
    queue.addConsumer(consumer);
    this.dirty.add(queue);
  }

  cancel(consumerId: number): void {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined) return;
    consumer.cancelled = true;
    this.consumers.delete(consumerId);
    const bySlot = this.consumersBySlot.get(consumer.creditSlot);
    bySlot?.delete(consumer);
    if (bySlot !== undefined && bySlot.size === 0) this.consumersBySlot.delete(consumer.creditSlot);
    consumer.queue.removeConsumer(consumer);
    // Another consumer may take over (single active consumer) or take the share this one had.
    if (consumer.queue.consumers.length > 0) this.dirty.add(consumer.queue);
    if (consumer.queue.inFlow) this.updateFlow(consumer.queue);
  }

  /** Counts of every queue of this shard, for listings and metrics. */
  stats(reqId: number): void {
    this.sweepExpired();
    this.out.statsBegin(reqId, this.queues.size);
    for (const q of this.queues.values()) this.out.statsQueue(q.id, q.messageCount, q.unacked, q.readyBytes);
    this.out.statsEnd();
  }

  kick(slot: number): void {
    const bySlot = this.consumersBySlot.get(slot);
    if (bySlot !== undefined) for (const consumer of bySlot) this.dirty.add(consumer.queue);
  }

  settle(action: number, deliveryIds: RecordList): void {
    for (let i = 0; i < deliveryIds.count; i++) {
      const deliveryId = deliveryIds.f64(i);
      const u = this.unacked.get(deliveryId);
      if (u === undefined) continue; // its queue was deleted, or a duplicate the acceptor let through
      this.unacked.delete(deliveryId);
      const { queue, entry, consumer } = u;
      queue.unacked--;
      if (consumer !== null) {
        consumer.unacked--;
        if (!consumer.cancelled) this.dirty.add(queue);
      }
      if (action === Settle.requeue && !queue.deleted) {
        if (queue.requeue(entry) === "over-limit") {
          this.letGo(queue, entry, DeadLetterReason.deliveryLimit);
          continue;
        }
        if (entry.expiresAt_ms !== 0) this.watchExpiry(queue, entry.expiresAt_ms);
        if (queue.consumers.length > 0) this.dirty.add(queue);
      } else if (action === Settle.drop) {
        this.letGo(queue, entry, DeadLetterReason.rejected);
      } else {
        this.forget(queue, entry);
      }
    }
  }

  get(queueId: number, reqId: number, noAck: boolean): void {
    const queue = this.queues.get(queueId);
    if (queue !== undefined && queue.expiring > 0) this.expire(queue, Date.now());
    const entry = queue?.take();
    if (queue === undefined || entry === undefined) {
      this.out.getEmpty(reqId);
      return;
    }
    const deliveryId = noAck ? 0 : this.track(queue, entry, null);
    // Sent before a no-ack get is forgotten: forgetting may release its slab space.
    this.out.getOk(reqId, deliveryId, entry.redelivered, queue.messageCount, entry.deliveryCount, entry);
    if (noAck) this.forget(queue, entry);
    if (queue.expiring > 0) this.watchExpiry(queue, queue.ready.headExpiresAt_ms);
    if (queue.inFlow) this.updateFlow(queue);
    else this.noteDelivered(queue, entry);
  }

  private deliverDirty(): void {
    for (const queue of this.dirty) {
      if (this.sender.backlogged) return; // resumed by onDrained
      this.dirty.delete(queue);
      this.deliver(queue);
      if (queue.inFlow) this.updateFlow(queue);
      // The window may have taken messages with a TTL from disk.
      if (queue.expiring > 0) this.watchExpiry(queue, queue.ready.headExpiresAt_ms);
    }
  }

  /** Tells the acceptor when the queue enters or leaves flow (see FLOW_HIGH_MESSAGES). */
  private updateFlow(queue: ShardQueue): void {
    const backlog = queue.messageCount;
    const bytes = queue.readyBytes;
    if (!queue.inFlow) {
      if (queue.consumers.length === 0 || (backlog <= FLOW_HIGH_MESSAGES && bytes <= FLOW_HIGH_BYTES)) return;
      queue.inFlow = true;
    } else {
      if (queue.consumers.length > 0 && (backlog > FLOW_HIGH_MESSAGES / 2 || bytes > FLOW_HIGH_BYTES / 2)) return;
      queue.inFlow = false;
    }
    this.out.flow(queue.id, queue.inFlow);
  }

  /**
   * A TTL of 0, as RabbitMQ: the message reaches a consumer that can take it now, or expires at
   * once. Delivered here rather than in the batch's delivery pass, whose clock may have moved on.
   */
  private deliverOrExpire(queue: ShardQueue, now_ms: number): void {
    if (queue.consumers.length > 0) this.deliver(queue, now_ms);
    this.expire(queue, now_ms + 1);
  }

  private deliver(queue: ShardQueue, now_ms = Date.now()): void {
    if (queue.expiring > 0) this.expire(queue, now_ms);
    for (let sent = 0; queue.ready.length > 0; sent++) {
      if (sent === DELIVERIES_PER_QUEUE_PER_BATCH || this.sender.backlogged) {
        this.dirty.add(queue);
        return;
      }
      const consumer = queue.pickConsumer(this.channelCanTake);
      if (consumer === undefined) return; // re-marked dirty when credit frees up
      if (!consumer.noAck && !this.credits.take(consumer.creditSlot)) continue;
      const entry = queue.take()!;
      const deliveryId = consumer.noAck ? 0 : this.track(queue, entry, consumer);
      // Sent before a no-ack delivery is forgotten: forgetting may release its slab space.
      this.out.deliver(entry.redelivered, consumer.id, deliveryId, entry.deliveryCount, entry);
      if (consumer.noAck) {
        this.forget(queue, entry);
      } else {
        consumer.unacked++;
        this.noteDelivered(queue, entry);
      }
    }
  }

  /** Channel-level gate: a backed-up socket, and the channel-wide prefetch (global qos). */
  private readonly channelCanTake = (consumer: Consumer): boolean => this.credits.canTake(consumer.creditSlot, consumer.noAck);

  private track(queue: ShardQueue, entry: QueueEntry, consumer: Consumer | null): number {
    const id = this.nextDeliveryId++;
    this.unacked.set(id, { entry, queue, consumer });
    queue.unacked++;
    return id;
  }

  /** A message left the queue for good (acked, dropped, purged, no-ack delivered). */
  private forget(queue: ShardQueue, entry: QueueEntry): void {
    if (entry.persistent && queue.durable && this.journal !== null) {
      pushTo(this.removedIds, queue, entry.id);
    }
    if (entry.slab !== null) this.slabs.release(entry.slab);
  }

  private noteDelivered(queue: ShardQueue, entry: QueueEntry): void {
    if (entry.persistent && queue.durable && this.journal !== null && !entry.redelivered) {
      pushTo(this.deliveredIds, queue, entry.id);
    }
  }

  /** `expiresAt_ms`: an entry of the queue expires then (0 or less: unknown, the backstop applies). */
  private watchExpiry(queue: ShardQueue, expiresAt_ms: number): void {
    this.expiringQueues.add(queue);
    // Strictly past its time (ShardQueue.dropExpired): due one millisecond after.
    this.armSweep(expiresAt_ms > 0 ? expiresAt_ms + 1 : Date.now() + EXPIRY_SWEEP_MAX_GAP_MS);
  }

  /** Arms the sweep for `due_ms` unless it is already armed as early. */
  private armSweep(due_ms: number): void {
    const at_ms = Math.max(due_ms, this.lastSweep_ms + EXPIRY_SWEEP_MIN_GAP_MS);
    if (this.sweepTimer !== null) {
      if (this.sweepAt_ms <= at_ms) return;
      clearTimeout(this.sweepTimer);
    }
    this.sweepAt_ms = at_ms;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      this.sweepExpired();
      this.onBatchEnd();
    }, Math.max(0, at_ms - Date.now()));
  }

  private sweepExpired(): void {
    const now_ms = Date.now();
    this.lastSweep_ms = now_ms;
    let due_ms = now_ms + EXPIRY_SWEEP_MAX_GAP_MS;
    for (const queue of this.expiringQueues) {
      this.expire(queue, now_ms);
      const head_ms = queue.ready.headExpiresAt_ms;
      if (head_ms > 0 && head_ms + 1 < due_ms) due_ms = head_ms + 1;
    }
    if (this.expiringQueues.size > 0) this.armSweep(due_ms);
  }

  /** Drops the queue's expired head entries (dead-lettered when the queue has a dead-letter exchange). */
  private expire(queue: ShardQueue, now_ms: number): void {
    const more = queue.dropExpired(now_ms, this.dropped);
    if (queue.inFlow) this.updateFlow(queue);
    this.discardDropped(queue, DeadLetterReason.expired);
    if (queue.expiring === 0 || queue.deleted) this.expiringQueues.delete(queue);
    else if (more) {
      // The pass was capped with the head still expired: the next one runs once other work has.
      this.expiringQueues.add(queue);
      this.armSweep(now_ms);
    }
  }

  private discardDropped(queue: ShardQueue, reason: number): void {
    for (const entry of this.dropped) this.letGo(queue, entry, reason);
    this.dropped.length = 0;
  }

  /**
   * The queue lets a message go (rejected, expired, over a limit): dead-lettered when the queue has
   * a dead-letter exchange, else forgotten. A journaled message stays in the journal until the
   * acceptor reports that every queue it was routed to has it (deadLettered): a crash in between
   * brings it back to this queue, so it is dead-lettered at least once, never lost.
   */
  private letGo(queue: ShardQueue, entry: QueueEntry, reason: number): void {
    if (queue.limits.deadLetterExchange === undefined || queue.deleted) {
      this.forget(queue, entry);
      return;
    }
    if (entry.persistent && queue.durable && this.journal !== null && queue.limits.deadLetterStrategy !== "at-most-once") {
      const handoffId = this.nextHandoffId++;
      this.handoffs.set(handoffId, { queue, entry });
      this.out.deadLetter(queue.id, reason, handoffId, entry);
      return;
    }
    this.out.deadLetter(queue.id, reason, 0, entry);
    this.forget(queue, entry);
  }

  /** The dead-lettered message's targets all have it: its source forgets it now. */
  deadLettered(handoffId: number): void {
    const handoff = this.handoffs.get(handoffId);
    if (handoff === undefined) return;
    this.handoffs.delete(handoffId);
    this.forget(handoff.queue, handoff.entry);
  }

  private writeJournalBatches(): void {
    if (this.journal === null) return;
    for (const [queue, ids] of this.deliveredIds) if (!queue.deleted) this.lastJournalSeq = this.journal.delivered(queue.key, ids);
    this.deliveredIds.clear();
    for (const [queue, ids] of this.removedIds) if (!queue.deleted) this.lastJournalSeq = this.journal.remove(queue.key, ids);
    this.removedIds.clear();
  }

}

function pushTo(map: Map<ShardQueue, number[]>, queue: ShardQueue, id: number): void {
  const list = map.get(queue);
  if (list === undefined) map.set(queue, [id]);
  else list.push(id);
}
