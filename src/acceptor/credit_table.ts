// The acceptor's side of the per-channel credit slots shared with every shard (see records.ts):
// allocates slots to channels, sets the channel-wide prefetch and the pause flag, and returns credit
// when deliveries are settled. Shards take credit; only the acceptor gives it back.
import { CREDIT_SLOT_INTS, MAX_CREDIT_SLOTS } from "../shard/records.ts";

export class CreditTable {
  readonly sab = new SharedArrayBuffer(MAX_CREDIT_SLOTS * CREDIT_SLOT_INTS * 4);
  private readonly ints = new Int32Array(this.sab);
  private readonly free: number[] = [];
  private nextUnused = 0;

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
    Atomics.store(this.ints, slot * CREDIT_SLOT_INTS, prefetch);
  }

  setPaused(slot: number, paused: boolean): void {
    Atomics.store(this.ints, slot * CREDIT_SLOT_INTS + 2, paused ? 1 : 0);
  }

  /** Returns `count` settled deliveries; true when that reopens a channel that was at its limit. */
  giveBack(slot: number, count: number): boolean {
    const base = slot * CREDIT_SLOT_INTS;
    const before = Atomics.sub(this.ints, base + 1, count);
    const limit = Atomics.load(this.ints, base);
    return limit !== 0 && before >= limit && before - count < limit;
  }
}
