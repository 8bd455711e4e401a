// A queue's ready messages, column by column: typed arrays (id, offset, length, position, expiry,
// flags) plus one array of references to where the bytes live. A million queued messages as
// objects (an entry and its message) took ~130 bytes each on the JS heap; here a slot takes 45
// bytes, and no object exists until a message is taken out (delivered, got, dropped, purged).
//
// Storage grows in chunks so that no size ever costs a copy of the whole queue: a short queue is
// one ring of columns that doubles from 16 slots up to CHUNK_SLOTS (and halves once three quarters
// are empty); a longer one is a list of full CHUNK_SLOTS chunks, a chunk added at the tail as it
// fills and dropped at the head as it empties. (Doubling one ring to hold 8 million messages would
// allocate 16 million slots while the old 8 million were still alive: a third more memory than
// the queue, at the moment memory is scarcest.)
import { invariant } from "../invariant.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { Slab } from "./slab.ts";

const INITIAL_SLOTS = 16;
const CHUNK_SHIFT = 12;
/** 4,096 slots, 164 KiB of columns: full chunks are this size. */
const CHUNK_SLOTS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SLOTS - 1;
const FLAG_PERSISTENT = 1;
const FLAG_REDELIVERED = 2;

class Chunk {
  readonly ids: Float64Array;
  /** The slab holding the bytes, or the message's own array. */
  readonly stores: (Slab | Uint8Array | undefined)[];
  readonly ats: Uint32Array;
  readonly lengths: Uint32Array;
  readonly positions: Float64Array;
  readonly expiries: Float64Array;
  readonly flags: Uint8Array;
  readonly deliveryCounts: Uint32Array;

  constructor(readonly slots: number) {
    this.ids = new Float64Array(slots);
    this.stores = new Array<Slab | Uint8Array | undefined>(slots);
    this.ats = new Uint32Array(slots);
    this.lengths = new Uint32Array(slots);
    this.positions = new Float64Array(slots);
    this.expiries = new Float64Array(slots);
    this.flags = new Uint8Array(slots);
    this.deliveryCounts = new Uint32Array(slots);
  }
}

/** What a queue needs of its ready messages (ReadyQueue, or PriorityReady for a priority queue). */
export interface ReadyMessages {
  readonly length: number;
  /** Expiry (Date.now() ms, 0 = never) of the next message out; -1 when empty. */
  readonly headExpiresAt_ms: number;
  push(env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number, deliveryCount?: number): void;
  /** Puts a taken entry back at its place. */
  insert(entry: QueueEntry): void;
  shift(): QueueEntry | undefined;
  clear(): QueueEntry[];
}

export class ReadyQueue implements ReadyMessages {
  /**
   * One chunk: a ring (positions wrap modulo its size). More than one: full chunks, read
   * linearly from `head` in chunks[0] (message i is at head + i across the chunks).
   */
  private chunks: Chunk[] = [new Chunk(INITIAL_SLOTS)];
  private head = 0;
  private count = 0;
  /** The last chunk dropped at the head, reused at the tail: a queue that hovers at a boundary allocates nothing. */
  private spare: Chunk | null = null;
  /** Where locate() found message i. */
  private lc: Chunk = this.chunks[0]!;
  private ls = 0;

  get length(): number {
    return this.count;
  }

  /** Expiry (Date.now() ms, 0 = never) of the head message; -1 when empty. */
  get headExpiresAt_ms(): number {
    if (this.count === 0) return -1;
    this.locate(0);
    return this.lc.expiries[this.ls]!;
  }

  push(env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number, deliveryCount = 0): void {
    this.makeRoomAtTail();
    this.locate(this.count);
    this.write(this.lc, this.ls, env, position, redelivered, expiresAt_ms, deliveryCount);
    this.count++;
  }

  /**
   * Puts a taken entry back before the first message with a later position (or at the end). The
   * shorter side moves by one slot: a requeue lands near the head, so a long backlog behind it
   * stays where it is.
   */
  insert(entry: QueueEntry): void {
    let i = 0;
    while (i < this.count && (this.locate(i), this.lc.positions[this.ls]!) <= entry.position) i++;
    if (i < this.count - i) {
      this.makeRoomAtHead();
      for (let j = 0; j < i; j++) this.move(j + 1, j);
    } else {
      this.makeRoomAtTail();
      for (let j = this.count; j > i; j--) this.move(j - 1, j);
    }
    this.count++;
    this.locate(i);
    this.write(this.lc, this.ls, entry, entry.position, entry.redelivered, entry.expiresAt_ms, entry.deliveryCount);
  }

  /** Takes the head message out as an entry. */
  shift(): QueueEntry | undefined {
    if (this.count === 0) return undefined;
    this.locate(0);
    const c = this.lc;
    const i = this.ls;
    const store = c.stores[i]!;
    const slab = store instanceof Slab ? store : null;
    const flags = c.flags[i]!;
    const entry: QueueEntry = {
      id: c.ids[i]!,
      buf: slab === null ? (store as Uint8Array) : slab.buf,
      at: c.ats[i]!,
      length: c.lengths[i]!,
      slab,
      persistent: (flags & FLAG_PERSISTENT) !== 0,
      position: c.positions[i]!,
      redelivered: (flags & FLAG_REDELIVERED) !== 0,
      expiresAt_ms: c.expiries[i]!,
      deliveryCount: c.deliveryCounts[i]!,
    };
    c.stores[i] = undefined;
    this.count--;
    if (this.chunks.length === 1) {
      this.head = (this.head + 1) & (c.slots - 1);
      if (c.slots > INITIAL_SLOTS && this.count < c.slots / 4) this.resizeRing(c.slots / 2);
    } else if (++this.head === CHUNK_SLOTS) {
      // The head chunk is used up: the next one holds the head now (one chunk left is a ring again).
      this.spare = this.chunks.shift()!;
      this.head = 0;
    }
    return entry;
  }

  /** Takes every message out, in order. */
  clear(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (let e = this.shift(); e !== undefined; e = this.shift()) all.push(e);
    return all;
  }

  /** Sets lc/ls to the chunk and slot of message i (0 = head). */
  private locate(i: number): void {
    if (this.chunks.length === 1) {
      this.lc = this.chunks[0]!;
      this.ls = (this.head + i) & (this.lc.slots - 1);
    } else {
      const g = this.head + i;
      this.lc = this.chunks[g >>> CHUNK_SHIFT]!;
      this.ls = g & CHUNK_MASK;
    }
  }

  /** Ensures message `count` (one past the tail) has a slot. */
  private makeRoomAtTail(): void {
    if (this.chunks.length === 1) {
      const slots = this.chunks[0]!.slots;
      if (this.count < slots) return;
      if (slots < CHUNK_SLOTS) {
        this.resizeRing(slots * 2);
        return;
      }
      this.unwrap();
    }
    if (this.head + this.count === this.chunks.length * CHUNK_SLOTS) this.chunks.push(this.newChunk());
  }

  /** Ensures there is a slot in front of the head; moves the head there. */
  private makeRoomAtHead(): void {
    if (this.chunks.length === 1) {
      const slots = this.chunks[0]!.slots;
      if (this.count === slots) {
        if (slots < CHUNK_SLOTS) this.resizeRing(slots * 2);
        else this.unwrap();
      }
    }
    if (this.chunks.length === 1) {
      this.head = (this.head - 1) & (this.chunks[0]!.slots - 1);
      return;
    }
    if (this.head === 0) {
      this.chunks.unshift(this.newChunk());
      this.head = CHUNK_SLOTS;
    }
    this.head--;
  }

  /**
   * A full ring of CHUNK_SLOTS becomes two chunks read linearly: messages from the head to the
   * ring's end stay where they are, the wrapped part (slots 0..head-1) moves to the second chunk's
   * same slots.
   */
  private unwrap(): void {
    const ring = this.chunks[0]!;
    invariant(ring.slots === CHUNK_SLOTS && this.count === CHUNK_SLOTS, "ready queue", "only a full ring of a whole chunk unwraps");
    const next = this.newChunk();
    for (let s = 0; s < this.head; s++) copySlot(ring, s, next, s);
    this.chunks.push(next);
  }

  private newChunk(): Chunk {
    const chunk = this.spare ?? new Chunk(CHUNK_SLOTS);
    this.spare = null;
    return chunk;
  }

  private write(c: Chunk, i: number, env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number, deliveryCount: number): void {
    c.ids[i] = env.id;
    c.stores[i] = env.slab ?? env.buf;
    c.ats[i] = env.at;
    c.lengths[i] = env.length;
    c.positions[i] = position;
    c.expiries[i] = expiresAt_ms;
    c.flags[i] = (env.persistent ? FLAG_PERSISTENT : 0) | (redelivered ? FLAG_REDELIVERED : 0);
    c.deliveryCounts[i] = deliveryCount;
  }

  /** Message `from` goes to slot `to` (indices from the head). */
  private move(from: number, to: number): void {
    this.locate(from);
    const fc = this.lc;
    const fs = this.ls;
    this.locate(to);
    copySlot(fc, fs, this.lc, this.ls);
  }

  /** Re-lays a one-chunk ring from slot 0 in a new ring of `slots` (a power of two). */
  private resizeRing(slots: number): void {
    const old = this.chunks[0]!;
    invariant(slots >= this.count && (slots & (slots - 1)) === 0 && slots <= CHUNK_SLOTS, "ready queue", "ring size must hold the count, be a power of two and at most a chunk");
    const ring = new Chunk(slots);
    const mask = old.slots - 1;
    for (let k = 0; k < this.count; k++) copySlot(old, (this.head + k) & mask, ring, k);
    this.chunks[0] = ring;
    this.head = 0;
  }
}

function copySlot(from: Chunk, f: number, to: Chunk, t: number): void {
  to.ids[t] = from.ids[f]!;
  to.stores[t] = from.stores[f];
  to.ats[t] = from.ats[f]!;
  to.lengths[t] = from.lengths[f]!;
  to.positions[t] = from.positions[f]!;
  to.expiries[t] = from.expiries[f]!;
  to.flags[t] = from.flags[f]!;
  to.deliveryCounts[t] = from.deliveryCounts[f]!;
}
