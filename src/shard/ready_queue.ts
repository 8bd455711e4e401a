// A queue's ready messages, column by column: a ring of typed arrays (id, offset, length, position,
// expiry, flags) plus one array of references to where the bytes live. A million queued messages
// as objects (an entry and its message) took ~130 bytes each on the JS heap; here a slot takes 41
// bytes (slots are a power of two), and no object exists until a message is taken out (delivered,
// got, dropped, purged).
// Grows by doubling and shrinks by half once three quarters are empty, never below its start size.
import { invariant } from "../invariant.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import { Slab } from "./slab.ts";

const INITIAL_CAPACITY = 16;
const FLAG_PERSISTENT = 1;
const FLAG_REDELIVERED = 2;

export class ReadyQueue {
  private capacity = INITIAL_CAPACITY;
  private head = 0;
  private count = 0;
  private ids = new Float64Array(INITIAL_CAPACITY);
  /** The slab holding the bytes, or the message's own array. */
  private stores: (Slab | Uint8Array | undefined)[] = new Array<Slab | Uint8Array | undefined>(INITIAL_CAPACITY);
  private ats = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  private positions = new Float64Array(INITIAL_CAPACITY);
  private expiries = new Float64Array(INITIAL_CAPACITY);
  private flags = new Uint8Array(INITIAL_CAPACITY);

  get length(): number {
    return this.count;
  }

  /** Expiry (Date.now() ms, 0 = never) of the head message; -1 when empty. */
  get headExpiresAt_ms(): number {
    return this.count === 0 ? -1 : this.expiries[this.head]!;
  }

  push(env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number): void {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    this.write((this.head + this.count) & (this.capacity - 1), env, position, redelivered, expiresAt_ms);
    this.count++;
  }

  /**
   * Puts a taken entry back before the first message with a later position (or at the end). The
   * shorter side moves by one slot: a requeue lands near the head, so a long backlog behind it
   * stays where it is.
   */
  insert(entry: QueueEntry): void {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    const mask = this.capacity - 1;
    let i = 0;
    while (i < this.count && this.positions[(this.head + i) & mask]! <= entry.position) i++;
    if (i < this.count - i) {
      this.head = (this.head - 1) & mask;
      for (let j = 0; j < i; j++) this.move((this.head + j + 1) & mask, (this.head + j) & mask);
    } else {
      for (let j = this.count; j > i; j--) this.move((this.head + j - 1) & mask, (this.head + j) & mask);
    }
    this.write((this.head + i) & mask, entry, entry.position, entry.redelivered, entry.expiresAt_ms);
    this.count++;
  }

  /** Takes the head message out as an entry. */
  shift(): QueueEntry | undefined {
    if (this.count === 0) return undefined;
    const i = this.head;
    const store = this.stores[i]!;
    const slab = store instanceof Slab ? store : null;
    const flags = this.flags[i]!;
    const entry: QueueEntry = {
      id: this.ids[i]!,
      buf: slab === null ? (store as Uint8Array) : slab.buf,
      at: this.ats[i]!,
      length: this.lengths[i]!,
      slab,
      persistent: (flags & FLAG_PERSISTENT) !== 0,
      position: this.positions[i]!,
      redelivered: (flags & FLAG_REDELIVERED) !== 0,
      expiresAt_ms: this.expiries[i]!,
    };
    this.stores[i] = undefined;
    this.head = (this.head + 1) & (this.capacity - 1);
    this.count--;
    if (this.capacity > INITIAL_CAPACITY && this.count < this.capacity / 4) this.resize(this.capacity / 2);
    return entry;
  }

  /** Takes every message out, in order. */
  clear(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (let e = this.shift(); e !== undefined; e = this.shift()) all.push(e);
    return all;
  }

  private write(i: number, env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number): void {
    this.ids[i] = env.id;
    this.stores[i] = env.slab ?? env.buf;
    this.ats[i] = env.at;
    this.lengths[i] = env.length;
    this.positions[i] = position;
    this.expiries[i] = expiresAt_ms;
    this.flags[i] = (env.persistent ? FLAG_PERSISTENT : 0) | (redelivered ? FLAG_REDELIVERED : 0);
  }

  private move(from: number, to: number): void {
    this.ids[to] = this.ids[from]!;
    this.stores[to] = this.stores[from];
    this.ats[to] = this.ats[from]!;
    this.lengths[to] = this.lengths[from]!;
    this.positions[to] = this.positions[from]!;
    this.expiries[to] = this.expiries[from]!;
    this.flags[to] = this.flags[from]!;
  }

  /** Re-lays the ring from index 0 in new columns of `capacity` slots. */
  private resize(capacity: number): void {
    invariant(capacity >= this.count && (capacity & (capacity - 1)) === 0, "ready queue", "capacity must hold the count and be a power of two");
    const mask = this.capacity - 1;
    const ids = new Float64Array(capacity);
    const stores = new Array<Slab | Uint8Array | undefined>(capacity);
    const ats = new Uint32Array(capacity);
    const lengths = new Uint32Array(capacity);
    const positions = new Float64Array(capacity);
    const expiries = new Float64Array(capacity);
    const flags = new Uint8Array(capacity);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & mask;
      ids[k] = this.ids[i]!;
      stores[k] = this.stores[i];
      ats[k] = this.ats[i]!;
      lengths[k] = this.lengths[i]!;
      positions[k] = this.positions[i]!;
      expiries[k] = this.expiries[i]!;
      flags[k] = this.flags[i]!;
    }
    this.ids = ids;
    this.stores = stores;
    this.ats = ats;
    this.lengths = lengths;
    this.positions = positions;
    this.expiries = expiries;
    this.flags = flags;
    this.capacity = capacity;
    this.head = 0;
  }
}
