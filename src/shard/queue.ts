// A queue's contents inside its shard: ready messages in FIFO order, its consumers, and the limits
// from its declare arguments. Unacknowledged deliveries are tracked by the shard (they belong to
// channels, not queues) but counted here for declare-ok / stats.
//
// Ready messages are a memory window at the head (`ready`) and, once the window is full, the rest
// on disk in arrival order (`paged`, PagedMessages). A message is paged only when every message
// ahead of it is in the window or paged, so the window is always the queue's head; it is refilled
// from disk as it drains below half. Priority queues keep everything in memory.
import type { Consumer } from "./consumer.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { PagedMessages } from "./paged_messages.ts";
import { PriorityReady } from "./priority_ready.ts";
import { ReadyQueue, type ReadyMessages } from "./ready_queue.ts";
import type { QueueLimits } from "../link/records.ts";

/** "paged": the queue copied the bytes to disk and holds no reference to where they were. */
export type EnqueueResult = "queued" | "paged" | "refused";

/** How much of a queue's head stays in memory. */
export interface MemoryWindow {
  messages: number;
  bytes: number;
  /** Where the queue's page files go; null keeps everything in memory. */
  pageDir: string | null;
}

export const ALL_IN_MEMORY: MemoryWindow = { messages: Infinity, bytes: Infinity, pageDir: null };

export class ShardQueue {
  /** The head of the ready messages, in memory. */
  readonly ready: ReadyMessages;
  /** The rest, on disk (null until the window first fills, and for queues that never page). */
  private paged: PagedMessages | null = null;
  private readonly pageable: boolean;
  /** Envelope bytes of `ready` (readyBytes counts the paged ones too). */
  private windowBytes = 0;
  readonly consumers: Consumer[] = [];
  /** Next position handed to an enqueued entry; requeued entries keep theirs. */
  private nextPosition = 0;
  private roundRobin = 0;
  readyBytes = 0;
  unacked = 0;
  /** Ready entries that carry an expiry (so the shard knows which queues to sweep). */
  expiring = 0;
  deleted = false;
  /** The acceptor was told the backlog passed the flow mark (Shard.updateFlow). */
  inFlow = false;

  constructor(
    readonly id: number,
    /** "vhost\0name": the queue's name in the journal. */
    readonly key: string,
    readonly durable: boolean,
    readonly limits: QueueLimits,
    /** A quorum queue: every message kept as persistent whatever its delivery-mode, returns counted. */
    readonly quorum = false,
    private readonly window: MemoryWindow = ALL_IN_MEMORY,
  ) {
    const priority = limits.maxPriority !== undefined && limits.maxPriority > 0;
    this.ready = priority ? new PriorityReady(limits.maxPriority!) : new ReadyQueue();
    this.pageable = !priority && window.pageDir !== null;
  }

  /** Ready messages, in memory and paged. */
  get messageCount(): number {
    return this.ready.length + (this.paged?.count ?? 0);
  }

  /** Ready messages on disk only. */
  get pagedCount(): number {
    return this.paged?.count ?? 0;
  }

  /**
   * Appends a message. At x-max-length / x-max-length-bytes, drop-head (the default) removes the
   * oldest ready messages into `dropped`; reject-publish refuses the new one. Unless refused, the
   * message is this queue's from here on (dropped entries are released by whoever takes `dropped`).
   */
  enqueue(env: Envelope, dropped: QueueEntry[], expiresAt_ms = 0, redelivered = false): EnqueueResult {
    const size = env.length;
    if (this.wouldOverflow(size) && (this.limits.overflow === "reject-publish" || this.limits.overflow === "reject-publish-dlx")) return "refused";
    const position = this.nextPosition++;
    while (this.messageCount > 0 && this.wouldOverflow(size)) dropped.push(this.take()!);
    if (this.wouldOverflow(size)) {
      // max-length 0: the message itself is dropped at once, as RabbitMQ does.
      dropped.push({ ...env, position, redelivered, expiresAt_ms, deliveryCount: 0 });
      return "queued";
    }
    if (expiresAt_ms !== 0) this.expiring++;
    this.readyBytes += size;
    // The window is never empty while messages are paged: an empty one takes the message itself.
    if (this.pageable && this.ready.length > 0 && (this.pagedCount > 0 || this.ready.length >= this.window.messages || this.windowBytes + size > this.window.bytes)) {
      this.paged ??= new PagedMessages(this.window.pageDir!, `q${this.id}`);
      this.paged.append(env, position, redelivered, expiresAt_ms, 0);
      return "paged";
    }
    this.ready.push(env, position, redelivered, expiresAt_ms);
    this.windowBytes += size;
    return "queued";
  }

  /** Takes the head ready entry (refilling the window from disk as it drains). */
  take(): QueueEntry | undefined {
    const entry = this.ready.shift();
    if (entry !== undefined) {
      this.readyBytes -= entry.length;
      this.windowBytes -= entry.length;
      if (entry.expiresAt_ms !== 0) this.expiring--;
      if (this.paged !== null && this.paged.count > 0 && this.ready.length <= this.window.messages / 2) {
        this.windowBytes += this.paged.refill(this.ready, this.window.messages, this.window.bytes - this.windowBytes);
      }
    }
    return entry;
  }

  /**
   * Drops expired entries from the head into `dropped`. As in RabbitMQ, an entry expires only
   * once it reaches the head: a longer-lived message in front keeps later ones waiting. Strictly
   * past its time: a TTL of 0 still reaches a consumer that is ready in the same millisecond.
   */
  dropExpired(now_ms: number, dropped: QueueEntry[]): void {
    for (let at_ms = this.ready.headExpiresAt_ms; at_ms > 0 && at_ms < now_ms; at_ms = this.ready.headExpiresAt_ms) {
      dropped.push(this.take()!);
    }
  }

  /**
   * Puts a delivered entry back at its original place, marked redelivered; a quorum queue counts
   * the return. "over-limit" (and the entry stays out) once it was returned more than
   * x-delivery-limit times, as rabbit_fifo's return: the caller dead-letters or drops it.
   */
  requeue(entry: QueueEntry): "requeued" | "over-limit" {
    entry.redelivered = true;
    if (this.quorum) {
      entry.deliveryCount++;
      const limit = this.limits.deliveryLimit;
      if (limit !== undefined && entry.deliveryCount > limit) return "over-limit";
    }
    this.readyBytes += entry.length;
    if (entry.expiresAt_ms !== 0) this.expiring++;
    this.windowBytes += entry.length;
    this.ready.insert(entry);
    return "requeued";
  }

  /** Takes every ready message out, in order, handing each to `each`; returns how many. */
  purge(each: (entry: QueueEntry) => void): number {
    const count = this.messageCount;
    for (const entry of this.ready.clear()) each(entry);
    this.paged?.clear(each);
    this.readyBytes = 0;
    this.windowBytes = 0;
    this.expiring = 0;
    return count;
  }

  /** The queue is deleted: its page files go. */
  close(): void {
    this.paged?.close();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
  }

  removeConsumer(consumer: Consumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
    if (this.roundRobin > i) this.roundRobin--;
  }

  /**
   * The consumer to serve next: round-robin among the highest-priority consumers that can take a
   * message now (`canTake` checks channel-level credit and flow).
   */
  pickConsumer(canTake: (c: Consumer) => boolean): Consumer | undefined {
    if (this.limits.singleActiveConsumer === true) {
      // x-single-active-consumer: the earliest consumer still registered gets everything (on a
      // classic queue, whatever the consumers' priorities); the next takes over when it goes.
      const active = this.consumers[0];
      return active !== undefined && active.hasOwnCredit && canTake(active) ? active : undefined;
    }
    const n = this.consumers.length;
    let best: Consumer | undefined;
    let bestIndex = -1;
    for (let i = 0; i < n; i++) {
      const index = (this.roundRobin + i) % n;
      const c = this.consumers[index]!;
      if ((best === undefined || c.priority > best.priority) && c.hasOwnCredit && canTake(c)) {
        best = c;
        bestIndex = index;
      }
    }
    if (best !== undefined) this.roundRobin = (bestIndex + 1) % n;
    return best;
  }

  private wouldOverflow(size_bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.limits;
    return (maxLength !== undefined && this.messageCount + 1 > maxLength) ||
      (maxLengthBytes !== undefined && this.readyBytes + size_bytes > maxLengthBytes);
  }
}

