// A queue's contents inside its shard: ready messages in FIFO order, its consumers, and the limits
// from its declare arguments. Unacknowledged deliveries are tracked by the shard (they belong to
// channels, not queues) but counted here for declare-ok / stats.
//
// Ready messages are a memory window at the head (`ready`) and, once the window is full, the rest
// on disk in arrival order: first what a restart found in the journal (`recovered`, read from the
// journal's segments as needed), then what arrived since and did not fit (`paged`, the queue's
// page files). A message is paged only when every message ahead of it is in the window or on
// disk, so the window is always the queue's head; it is refilled from disk as it drains below
// half. Priority queues keep everything in memory.
import type { Consumer } from "./consumer.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { PagedMessages } from "./paged_messages.ts";
import { PriorityReady } from "./priority_ready.ts";
import { ReadyQueue, type ReadyMessages } from "./ready_queue.ts";
import type { RecoveredMessages } from "../journal/journal.ts";
import { envelopeExpiration_ms } from "../link/envelope.ts";
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

/** Recovered messages are read into the window this many at a time. */
const RECOVERED_BATCH = 256;
/**
 * Entries one pass of trim or dropExpired takes at most. Each take may read the next block back
 * from disk, so an uncapped pass over a long paged queue (ten million messages past their TTL)
 * would hold every block in `dropped` at once and keep the shard's thread from all its other
 * queues for minutes; the shard runs the rest in later passes (Shard.trim, armSweep).
 */
export const DROPS_PER_PASS = 4096;
const NO_BYTES = new Uint8Array(0);

export class ShardQueue {
  /** The head of the ready messages, in memory. */
  readonly ready: ReadyMessages;
  /** The rest, on disk (null until the window first fills, and for queues that never page). */
  private paged: PagedMessages | null = null;
  private readonly pageable: boolean;
  /** What the journal held for this queue at start-up and the window has not taken yet. */
  private recovered: RecoveredMessages | null = null;
  /** Positions 0..n-1 are the recovered messages'; the next one taken gets this. */
  private recoveredPosition = 0;
  /** When the recovered messages were adopted: their TTLs count from then. */
  private adopted_ms = 0;
  /** Envelope bytes of `ready`. */
  private windowBytes = 0;
  readonly consumers: Consumer[] = [];
  /** Next position handed to an enqueued entry; requeued entries keep theirs. */
  private nextPosition = 0;
  private roundRobin = 0;
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
    /** Replaced when a policy changes them (setLimits); x-max-priority never changes. */
    public limits: QueueLimits,
    /** A quorum queue: every message kept as persistent whatever its delivery-mode, returns counted. */
    readonly quorum = false,
    private readonly window: MemoryWindow = ALL_IN_MEMORY,
  ) {
    const priority = limits.maxPriority !== undefined && limits.maxPriority > 0;
    this.ready = priority ? new PriorityReady(limits.maxPriority!) : new ReadyQueue();
    this.pageable = !priority && window.pageDir !== null;
  }

  /** Ready messages, in memory and on disk. */
  get messageCount(): number {
    return this.ready.length + this.onDisk;
  }

  /** Ready messages on disk only. */
  get onDisk(): number {
    return (this.recovered?.count ?? 0) + (this.paged?.count ?? 0);
  }

  /** Body bytes of the ready messages (estimated for recovered ones the window has not read yet). */
  get readyBytes(): number {
    return this.windowBytes + (this.paged?.bytes ?? 0) + (this.recovered?.estimatedBytes ?? 0);
  }

  /**
   * Takes over what the journal held for this queue at start-up: positions 0..n-1 are reserved
   * for those messages, read into the window as it needs them (all at once for a queue that
   * cannot page). Their TTLs count from now (the journal keeps no arrival times).
   */
  adopt(recovered: RecoveredMessages, now_ms: number): void {
    this.recovered = recovered;
    this.adopted_ms = now_ms;
    this.nextPosition = recovered.count;
    this.refill();
  }

  /**
   * Takes head entries while the queue is over x-max-length / x-max-length-bytes under drop-head
   * (after adopt or new limits), at most DROPS_PER_PASS of them; true when it is still over
   * (another pass is due).
   */
  trim(dropped: QueueEntry[]): boolean {
    for (let n = 0; n < DROPS_PER_PASS && this.overLimit; n++) {
      const entry = this.take();
      if (entry === undefined) return false;
      dropped.push(entry);
    }
    return this.overLimit;
  }

  /** Over x-max-length / x-max-length-bytes under drop-head: trim has head entries to take. */
  get overLimit(): boolean {
    const overflow = this.limits.overflow;
    if (overflow === "reject-publish" || overflow === "reject-publish-dlx") return false;
    return this.messageCount > 0 && this.exceeds(this.messageCount, this.readyBytes);
  }

  /**
   * Appends a message. At x-max-length / x-max-length-bytes, drop-head (the default) removes the
   * oldest ready messages into `dropped` (at most DROPS_PER_PASS: a queue further over its limit,
   * being trimmed, keeps the message and stays overLimit); reject-publish refuses the new one.
   * Unless refused, the message is this queue's from here on (dropped entries are released by
   * whoever takes `dropped`).
   */
  enqueue(env: Envelope, dropped: QueueEntry[], expiresAt_ms = 0, redelivered = false): EnqueueResult {
    const size = env.length;
    if (this.wouldOverflow(size) && (this.limits.overflow === "reject-publish" || this.limits.overflow === "reject-publish-dlx")) return "refused";
    const position = this.nextPosition++;
    for (let n = 0; n < DROPS_PER_PASS && this.messageCount > 0 && this.wouldOverflow(size); n++) {
      const entry = this.take();
      if (entry === undefined) break;
      dropped.push(entry);
    }
    if (this.messageCount === 0 && this.wouldOverflow(size)) {
      // max-length 0: the message itself is dropped at once, as RabbitMQ does.
      dropped.push({ ...env, position, redelivered, expiresAt_ms, deliveryCount: 0 });
      return "queued";
    }
    if (expiresAt_ms !== 0) this.expiring++;
    // Behind anything on disk the message goes to disk too, even into an empty window (FIFO); with
    // nothing on disk an empty window takes it itself, however large, so it never waits on disk.
    if (this.pageable && (this.onDisk > 0 || (this.ready.length > 0 && (this.ready.length >= this.window.messages || this.windowBytes + size > this.window.bytes)))) {
      this.paged ??= new PagedMessages(this.window.pageDir!, `q${this.id}`);
      this.paged.append(env, position, redelivered, expiresAt_ms, 0);
      return "paged";
    }
    this.ready.push(env, position, redelivered, expiresAt_ms);
    this.windowBytes += size;
    return "queued";
  }

  /**
   * New effective limits (a policy was set or cleared). As RabbitMQ's classic queue does, a lower
   * max-length or max-length-bytes drops the oldest ready messages into `dropped` under drop-head
   * (a pass of trim: true when more passes are due); reject-publish keeps what is there and refuses
   * new messages. A TTL applies to messages enqueued from now on (each message's expiry is fixed
   * when it arrives).
   */
  setLimits(limits: QueueLimits, dropped: QueueEntry[]): boolean {
    this.limits = limits;
    return this.trim(dropped);
  }

  /** Takes the head ready entry (refilling the window from disk as it drains). */
  take(): QueueEntry | undefined {
    // The window can be empty with messages on disk (a window of 0 bytes, or every entry taken
    // before a refill could run): the head is then on disk.
    if (this.ready.length === 0 && this.onDisk > 0) this.refill();
    const entry = this.ready.shift();
    if (entry !== undefined) {
      this.windowBytes -= entry.length;
      if (entry.expiresAt_ms !== 0) this.expiring--;
      if (this.onDisk > 0 && this.ready.length <= this.window.messages / 2) this.refill();
    }
    return entry;
  }

  /**
   * Moves messages from disk into the window until it is full (recovered ones first); at least one
   * moves into an empty window, whatever its limits, so a take always finds the head.
   */
  private refill(): void {
    const r = this.recovered;
    if (r !== null) {
      const all = !this.pageable;
      while (r.count > 0 && (all || this.ready.length === 0 || (this.ready.length < this.window.messages && this.windowBytes < this.window.bytes))) {
        const batch = all ? r.count : Math.max(1, Math.min(RECOVERED_BATCH, this.window.messages - this.ready.length));
        if (r.take(batch, this.adoptOne) === 0) break;
      }
      if (r.count > 0) return;
      r.close();
      this.recovered = null;
    }
    if (this.paged !== null && this.paged.count > 0) {
      this.windowBytes += this.paged.refill(this.ready, this.window.messages, this.window.bytes - this.windowBytes);
    }
  }

  private readonly adoptOne = (msgId: number, buf: Uint8Array, at: number, length: number, redelivered: boolean): void => {
    const env = this.scratch;
    env.id = msgId;
    env.buf = buf;
    env.at = at;
    env.length = length;
    const ttl_ms = minTtl(envelopeExpiration_ms(buf, at), this.limits.messageTtl_ms);
    const expiresAt_ms = ttl_ms === undefined ? 0 : this.adopted_ms + ttl_ms;
    this.ready.push(env, this.recoveredPosition++, redelivered, expiresAt_ms);
    this.windowBytes += length;
    if (expiresAt_ms !== 0) this.expiring++;
    env.buf = NO_BYTES;
  };

  /** A recovered message on its way into the window (the window copies its fields). */
  private readonly scratch: { -readonly [K in keyof Envelope]: Envelope[K] } = { id: 0, buf: NO_BYTES, at: 0, length: 0, slab: null, persistent: true };

  /**
   * Drops expired entries from the head into `dropped`. As in RabbitMQ, an entry expires only
   * once it reaches the head: a longer-lived message in front keeps later ones waiting. Strictly
   * past its time: a TTL of 0 still reaches a consumer that is ready in the same millisecond.
   * At most DROPS_PER_PASS entries; true when the head is still expired (another pass is due).
   */
  dropExpired(now_ms: number, dropped: QueueEntry[]): boolean {
    if (this.ready.length === 0 && this.onDisk > 0) this.refill();
    for (let n = 0; n < DROPS_PER_PASS && this.headExpired(now_ms); n++) {
      const entry = this.take();
      if (entry === undefined) return false;
      dropped.push(entry);
    }
    return this.headExpired(now_ms);
  }

  private headExpired(now_ms: number): boolean {
    const at_ms = this.ready.headExpiresAt_ms;
    return at_ms > 0 && at_ms < now_ms;
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
      if (limit !== undefined && limit !== null && entry.deliveryCount > limit) return "over-limit";
    }
    if (entry.expiresAt_ms !== 0) this.expiring++;
    this.windowBytes += entry.length;
    this.ready.insert(entry);
    return "requeued";
  }

  /**
   * Takes every ready message out, in order, handing each to `each`; returns how many. Messages
   * on disk are read to be handed out: for a purge that must journal each one's removal (see
   * Shard.purge; otherwise `discard` lets them go unread).
   */
  purge(each: (entry: QueueEntry) => void): number {
    const count = this.messageCount;
    for (const entry of this.ready.clear()) each(entry);
    this.windowBytes = 0;
    const r = this.recovered;
    if (r !== null) {
      r.take(r.count, (id, buf, at, length, redelivered) => {
        each({ id, buf, at, length, slab: null, persistent: true, position: 0, redelivered, expiresAt_ms: 0, deliveryCount: 0 });
      });
      r.close();
      this.recovered = null;
    }
    this.paged?.clear(each);
    this.expiring = 0;
    return count;
  }

  /**
   * Every ready message goes: the window's entries to `each` (their slab space), the page files
   * and the hold on the journal's segments let go unread (the caller journals one drop record).
   * For a delete, and for a purge with nothing unacknowledged. Returns how many.
   */
  discard(each: (entry: QueueEntry) => void): number {
    const count = this.messageCount;
    for (const entry of this.ready.clear()) each(entry);
    this.windowBytes = 0;
    this.recovered?.close();
    this.recovered = null;
    this.paged?.close();
    this.expiring = 0;
    return count;
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
    return this.exceeds(this.messageCount + 1, this.readyBytes + size_bytes);
  }

  /** Whether that many ready messages of that many bytes are past x-max-length / -bytes. */
  private exceeds(messages: number, bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.limits;
    return (maxLength !== undefined && messages > maxLength) || (maxLengthBytes !== undefined && bytes > maxLengthBytes);
  }
}

/** The shorter of two optional TTLs. */
export function minTtl(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
