// A queue's contents inside its shard: ready messages in FIFO order, its consumers, and the limits
// from its declare arguments. Unacknowledged deliveries are tracked by the shard (they belong to
// channels, not queues) but counted here for declare-ok / stats.
import type { Consumer } from "./consumer.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { PriorityReady } from "./priority_ready.ts";
import { ReadyQueue, type ReadyMessages } from "./ready_queue.ts";
import type { QueueLimits } from "../link/records.ts";

export type EnqueueResult = "queued" | "refused";

export class ShardQueue {
  readonly ready: ReadyMessages;
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
    /** Replaced when a policy changes them (setLimits); x-max-priority never changes. */
    public limits: QueueLimits,
    /** Every message is kept as persistent, whatever its delivery-mode (a quorum queue). */
    readonly persistAll = false,
  ) {
    this.ready = limits.maxPriority !== undefined && limits.maxPriority > 0 ? new PriorityReady(limits.maxPriority) : new ReadyQueue();
  }

  get messageCount(): number {
    return this.ready.length;
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
    while (this.ready.length > 0 && this.wouldOverflow(size)) dropped.push(this.take()!);
    if (this.wouldOverflow(size)) {
      // max-length 0: the message itself is dropped at once, as RabbitMQ does.
      dropped.push({ ...env, position, redelivered, expiresAt_ms });
      return "queued";
    }
    this.ready.push(env, position, redelivered, expiresAt_ms);
    if (expiresAt_ms !== 0) this.expiring++;
    this.readyBytes += size;
    return "queued";
  }

  /**
   * New effective limits (a policy was set or cleared). As RabbitMQ's classic queue does, a lower
   * max-length or max-length-bytes drops the oldest ready messages into `dropped` at once under
   * drop-head; reject-publish keeps what is there and refuses new messages. A TTL applies to
   * messages enqueued from now on (each message's expiry is fixed when it arrives).
   */
  setLimits(limits: QueueLimits, dropped: QueueEntry[]): void {
    this.limits = limits;
    if (limits.overflow === "reject-publish" || limits.overflow === "reject-publish-dlx") return;
    while (this.ready.length > 0 && this.exceeds(this.ready.length, this.readyBytes)) dropped.push(this.take()!);
  }

  /** Takes the head ready entry. */
  take(): QueueEntry | undefined {
    const entry = this.ready.shift();
    if (entry !== undefined) {
      this.readyBytes -= entry.length;
      if (entry.expiresAt_ms !== 0) this.expiring--;
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

  /** Puts a delivered entry back at its original place, marked redelivered. */
  requeue(entry: QueueEntry): void {
    entry.redelivered = true;
    this.readyBytes += entry.length;
    if (entry.expiresAt_ms !== 0) this.expiring++;
    this.ready.insert(entry);
  }

  purge(): QueueEntry[] {
    this.readyBytes = 0;
    this.expiring = 0;
    return this.ready.clear();
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
    return this.exceeds(this.ready.length + 1, this.readyBytes + size_bytes);
  }

  /** Whether that many ready messages of that many bytes are past x-max-length / -bytes. */
  private exceeds(messages: number, bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.limits;
    return (maxLength !== undefined && messages > maxLength) || (maxLengthBytes !== undefined && bytes > maxLengthBytes);
  }
}
