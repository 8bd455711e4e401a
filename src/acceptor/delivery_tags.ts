// A channel's outstanding delivery tags. Tags are handed out consecutively per channel (1, 2, ...),
// so an entry lives at index tag - base in parallel arrays; the base advances past settled tags.
// Each entry remembers the shard that holds the message and that shard's delivery id, and the
// counters of the queue it came from (an ack counts there).
import type { MessageCounts } from "../broker/message_counts.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { MethodName } from "../protocol/methods.ts";

const INITIAL_CAPACITY = 256;
/** Entry flags. */
const LIVE = 1;
/** The delivery counted against the channel-wide prefetch (a consumer delivery, not a get). */
const COUNTED = 2;

export interface SettledDelivery {
  /** The channel's delivery tag it had (restore puts it back under the same tag). */
  tag: number;
  shard: number;
  deliveryId: number;
  counted: boolean;
  /** The counters of the queue the message came from. */
  queue: MessageCounts | null;
  /** When the delivery times out (Date.now() ms, 0 = never), and the timeout that set it. */
  deadline_ms: number;
  timeout_ms: number;
}

export class DeliveryTags {
  private base = 1;
  private next = 1;
  private live = 0;
  private flags = new Uint8Array(INITIAL_CAPACITY);
  private shards = new Uint16Array(INITIAL_CAPACITY);
  private ids = new Float64Array(INITIAL_CAPACITY);
  private deadlines = new Float64Array(INITIAL_CAPACITY);
  private timeouts = new Float64Array(INITIAL_CAPACITY);
  private queues: (MessageCounts | null)[] = new Array<MessageCounts | null>(INITIAL_CAPACITY).fill(null);

  get outstanding(): number {
    return this.live;
  }

  /**
   * A tag for a delivery; `deliveryId` 0 means no-ack (nothing to settle later). A timeout other
   * than 0 is the consumer timeout: the delivery must be settled within it.
   */
  add(shard: number, deliveryId: number, counted: boolean, queue: MessageCounts | null, timeout_ms = 0): number {
    const tag = this.next++;
    if (deliveryId === 0) {
      if (this.live === 0) this.base = this.next;
      else this.ensure(tag);
      return tag;
    }
    this.ensure(tag);
    const i = tag - this.base;
    this.flags[i] = LIVE | (counted ? COUNTED : 0);
    this.shards[i] = shard;
    this.ids[i] = deliveryId;
    this.deadlines[i] = timeout_ms === 0 ? 0 : Date.now() + timeout_ms;
    this.timeouts[i] = timeout_ms;
    this.queues[i] = queue;
    this.live++;
    return tag;
  }

  /** The oldest outstanding delivery's deadline and timeout, or null (none, or it has no timeout). */
  oldestDeadline(): { deadline_ms: number; timeout_ms: number } | null {
    for (let t = this.base; t < this.next; t++) {
      if (!this.isLive(t)) continue;
      const i = t - this.base;
      return this.deadlines[i] === 0 ? null : { deadline_ms: this.deadlines[i]!, timeout_ms: this.timeouts[i]! };
    }
    return null;
  }

  /**
   * Settles `tag` (or, with multiple, every outstanding tag up to it; tag 0 with multiple means all).
   * An unknown or already settled tag is RabbitMQ's 406 "unknown delivery tag N".
   */
  settle(tag: number, multiple: boolean, out: SettledDelivery[], method: MethodName): void {
    if (multiple) {
      const upTo = tag === 0 ? this.next - 1 : tag;
      if (tag !== 0 && !this.isLive(tag) && (tag >= this.next || tag < 1)) {
        throw new AmqpError(ReplyCode.preconditionFailed, `unknown delivery tag ${tag}`, method);
      }
      for (let t = this.base; t <= upTo; t++) if (this.isLive(t)) this.take(t, out);
    } else {
      if (!this.isLive(tag)) throw new AmqpError(ReplyCode.preconditionFailed, `unknown delivery tag ${tag}`, method);
      this.take(tag, out);
    }
    this.compact();
  }

  /** Every outstanding delivery (channel close, basic.recover). */
  settleAll(out: SettledDelivery[]): void {
    for (let t = this.base; t < this.next; t++) if (this.isLive(t)) this.take(t, out);
    this.compact();
  }

  private isLive(tag: number): boolean {
    return tag >= this.base && tag < this.next && (this.flags[tag - this.base]! & LIVE) !== 0;
  }

  private take(tag: number, out: SettledDelivery[]): void {
    const i = tag - this.base;
    out.push({ tag, shard: this.shards[i]!, deliveryId: this.ids[i]!, counted: (this.flags[i]! & COUNTED) !== 0, queue: this.queues[i] ?? null, deadline_ms: this.deadlines[i]!, timeout_ms: this.timeouts[i]! });
    this.flags[i] = 0;
    this.queues[i] = null;
    this.live--;
  }

  /**
   * Makes settled deliveries outstanding again under their old tags: tx.rollback, where RabbitMQ
   * puts a transaction's acks back among the channel's unacked deliveries (acking them later works).
   */
  restore(entries: readonly SettledDelivery[]): void {
    for (const e of entries) {
      if (e.tag < this.base) this.growFront(this.base - e.tag);
      const i = e.tag - this.base;
      this.flags[i] = LIVE | (e.counted ? COUNTED : 0);
      this.shards[i] = e.shard;
      this.ids[i] = e.deliveryId;
      this.deadlines[i] = e.deadline_ms;
      this.timeouts[i] = e.timeout_ms;
      this.queues[i] = e.queue;
      this.live++;
    }
  }

  /** Moves base back by `by` tags (compaction may have dropped them), shifting the entries up. */
  private growFront(by: number): void {
    const span = this.next - this.base;
    this.ensure(this.next - 1 + by);
    this.flags.copyWithin(by, 0, span);
    this.shards.copyWithin(by, 0, span);
    this.ids.copyWithin(by, 0, span);
    this.deadlines.copyWithin(by, 0, span);
    this.timeouts.copyWithin(by, 0, span);
    this.queues.copyWithin(by, 0, span);
    this.flags.fill(0, 0, by);
    this.base -= by;
  }

  /** Drops the settled prefix so the arrays stay as small as the unsettled window. */
  private compact(): void {
    if (this.live === 0) {
      this.flags.fill(0, 0, Math.min(this.flags.length, this.next - this.base));
      this.base = this.next;
      return;
    }
    let skip = 0;
    const span = this.next - this.base;
    while (skip < span && (this.flags[skip]! & LIVE) === 0) skip++;
    if (skip < 1024 && skip * 2 < span) return;
    this.flags.copyWithin(0, skip, span);
    this.shards.copyWithin(0, skip, span);
    this.ids.copyWithin(0, skip, span);
    this.deadlines.copyWithin(0, skip, span);
    this.timeouts.copyWithin(0, skip, span);
    this.queues.copyWithin(0, skip, span);
    this.flags.fill(0, span - skip, span);
    this.queues.fill(null, span - skip, span);
    this.base += skip;
  }

  private ensure(tag: number): void {
    const need = tag - this.base + 1;
    if (need <= this.flags.length) return;
    let size = this.flags.length * 2;
    while (size < need) size *= 2;
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    const shards = new Uint16Array(size);
    shards.set(this.shards);
    const ids = new Float64Array(size);
    ids.set(this.ids);
    const deadlines = new Float64Array(size);
    deadlines.set(this.deadlines);
    const timeouts = new Float64Array(size);
    timeouts.set(this.timeouts);
    this.flags = flags;
    this.shards = shards;
    this.ids = ids;
    this.deadlines = deadlines;
    this.timeouts = timeouts;
    const queues = this.queues;
    this.queues = new Array<MessageCounts | null>(size).fill(null);
    for (let i = 0; i < queues.length; i++) this.queues[i] = queues[i] ?? null;
  }
}
