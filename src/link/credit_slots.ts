// Per-channel delivery credit shared by the acceptor and every shard (one SharedArrayBuffer), one
// slot of CREDIT_SLOT_INTS int32s per channel:
//   +0 channel-wide prefetch limit (basic.qos global=true; 0 = none)
//   +1 unacked deliveries counted against it
//   +2 paused (a backed-up socket): take no deliveries at all
//   +3 unused
// Shards take credit with compareExchange (CreditSlots.take); only the acceptor gives it back, on
// settlement (CreditTable.giveBack), and then kicks the shards.

const CREDIT_SLOT_INTS = 4;
const LIMIT = 0;
const INFLIGHT = 1;
const PAUSED = 2;
const MAX_CREDIT_SLOTS = 65536;

/** The shard's view: may a channel take a delivery, and take one. */
export class CreditSlots {
  protected readonly ints: Int32Array;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ints = new Int32Array(sab);
  }

  /** Channel-level gate: a backed-up socket, and the channel-wide prefetch (global qos). */
  canTake(slot: number, noAck: boolean): boolean {
    const base = slot * CREDIT_SLOT_INTS;
    if (Atomics.load(this.ints, base + PAUSED) !== 0) return false;
    if (noAck) return true;
    const limit = Atomics.load(this.ints, base + LIMIT);
    return limit === 0 || Atomics.load(this.ints, base + INFLIGHT) < limit;
  }

  /** Counts one delivery against the channel; compareExchange because other shards share the slot. */
  take(slot: number): boolean {
    const base = slot * CREDIT_SLOT_INTS;
    for (;;) {
      const limit = Atomics.load(this.ints, base + LIMIT);
      const inflight = Atomics.load(this.ints, base + INFLIGHT);
      if (limit !== 0 && inflight >= limit) return false;
      if (Atomics.compareExchange(this.ints, base + INFLIGHT, inflight, inflight + 1) === inflight) return true;
    }
  }
}

/** The acceptor's side: allocates slots to channels, sets limits and pauses, returns credit. */
export class CreditTable extends CreditSlots {
  private readonly free: number[] = [];
  private nextUnused = 0;

  constructor() {
    super(new SharedArrayBuffer(MAX_CREDIT_SLOTS * CREDIT_SLOT_INTS * 4));
  }

  /** A clean slot, or -1 when every slot is taken (the caller refuses the channel). */
  allocate(): number {
    const slot = this.free.pop() ?? (this.nextUnused < MAX_CREDIT_SLOTS ? this.nextUnused++ : -1);
    if (slot >= 0) this.ints.fill(0, slot * CREDIT_SLOT_INTS, (slot + 1) * CREDIT_SLOT_INTS);
    return slot;
  }

  /** Only once no shard can still take credit from it (after the channel's cancels were synced). */
  release(slot: number): void {
    this.free.push(slot);
  }

  setLimit(slot: number, prefetch: number): void {
    Atomics.store(this.ints, slot * CREDIT_SLOT_INTS + LIMIT, prefetch);
  }

  setPaused(slot: number, paused: boolean): void {
    Atomics.store(this.ints, slot * CREDIT_SLOT_INTS + PAUSED, paused ? 1 : 0);
  }

  /** Returns `count` settled deliveries; true when that reopens a channel that was at its limit. */
  giveBack(slot: number, count: number): boolean {
    const base = slot * CREDIT_SLOT_INTS;
    const before = Atomics.sub(this.ints, base + INFLIGHT, count);
    const limit = Atomics.load(this.ints, base + LIMIT);
    return limit !== 0 && before >= limit && before - count < limit;
  }
}
