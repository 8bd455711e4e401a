// The ready messages of a priority queue (x-max-priority): one ReadyQueue per priority level that
// holds messages, made when a message of that level first arrives and dropped when it empties, so
// a queue declared with 255 levels costs only the levels it uses. Higher levels go first, FIFO
// within a level; a message's level is its priority property, capped at the queue's maximum (none
// counts as 0), read from the envelope so the shard passes messages in as for any queue.
import { envelopePropsLengthAt, readU32 } from "../link/envelope.ts";
import { peekPriority } from "../protocol/properties.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { ReadyQueue, type ReadyMessages } from "./ready_queue.ts";

export class PriorityReady implements ReadyMessages {
  /** levels[p]: the messages of priority p, or undefined while it has none. */
  private readonly levels: (ReadyQueue | undefined)[];
  /** The highest level that may hold messages (levels above it are empty). */
  private top = -1;
  private count = 0;

  constructor(private readonly maxPriority: number) {
    this.levels = new Array<ReadyQueue | undefined>(maxPriority + 1);
  }

  get length(): number {
    return this.count;
  }

  get headExpiresAt_ms(): number {
    return this.head()?.headExpiresAt_ms ?? -1;
  }

  push(env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number, deliveryCount = 0): void {
    this.level(env).push(env, position, redelivered, expiresAt_ms, deliveryCount);
    this.count++;
  }

  insert(entry: QueueEntry): void {
    this.level(entry).insert(entry);
    this.count++;
  }

  shift(): QueueEntry | undefined {
    const q = this.head();
    if (q === undefined) return undefined;
    const entry = q.shift();
    this.count--;
    if (q.length === 0) this.levels[this.top] = undefined;
    return entry;
  }

  clear(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (let e = this.shift(); e !== undefined; e = this.shift()) all.push(e);
    return all;
  }

  /** The highest non-empty level (moving `top` down past empty ones). */
  private head(): ReadyQueue | undefined {
    while (this.top >= 0) {
      const q = this.levels[this.top];
      if (q !== undefined && q.length > 0) return q;
      this.top--;
    }
    return undefined;
  }

  private level(env: Envelope): ReadyQueue {
    const lengthAt = envelopePropsLengthAt(env.buf, env.at);
    const p = Math.min(peekPriority(env.buf, lengthAt + 4, readU32(env.buf, lengthAt)) ?? 0, this.maxPriority);
    let q = this.levels[p];
    if (q === undefined) this.levels[p] = q = new ReadyQueue();
    if (p > this.top) this.top = p;
    return q;
  }
}
