import { RING_HEADER_BYTES, maxRecordBytes, ringCapacityBytes } from "./ring_layout.ts";

/**
 * What RingWriter and RingReader share: their views of one ring's memory and the two halves of
 * the sleep/wake hand-off (see ring_layout.ts). The sides are mirror images: each stores its own
 * counter and wakes the other, and sleeps on the other's counter under its own flag.
 */
export abstract class RingEnd {
  readonly u8: Uint8Array;
  readonly view: DataView;
  readonly maxRecordBytes: number;
  protected readonly slots: Int32Array;
  protected readonly capacity_bytes: number;
  protected readonly position_mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.capacity_bytes = ringCapacityBytes(sab);
    this.position_mask = this.capacity_bytes - 1;
    this.maxRecordBytes = maxRecordBytes(this.capacity_bytes);
    this.slots = new Int32Array(sab, 0, RING_HEADER_BYTES / Int32Array.BYTES_PER_ELEMENT);
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES, this.capacity_bytes);
    this.view = new DataView(sab, RING_HEADER_BYTES, this.capacity_bytes);
  }

  /** Stores this side's counter: one store, one notify only if the other side sleeps on it. */
  protected storeAndWake(counter_slot: number, sleeper_flag_slot: number, value: number): void {
    Atomics.store(this.slots, counter_slot, value);
    // Pairs with sleepWhile()'s store-flag-then-load-counter (both seq-cst): either the
    // sleeper sees this value before sleeping or this load sees its flag.
    if (
      Atomics.load(this.slots, sleeper_flag_slot) !== 0 &&
      Atomics.compareExchange(this.slots, sleeper_flag_slot, 1, 0) === 1
    ) {
      Atomics.notify(this.slots, counter_slot);
    }
  }

  /**
   * One sleep on the other side's counter: announces it in own_flag_slot, re-reads the counter
   * and waits for it to change only if `blocked(counter)` still holds. Callers loop and re-check.
   */
  protected async sleepWhile(own_flag_slot: number, counter_slot: number, blocked: (counter: number) => boolean): Promise<void> {
    Atomics.store(this.slots, own_flag_slot, 1);
    // Re-check after announcing (pairs with storeAndWake()'s store-counter-then-load-flag).
    const counter = Atomics.load(this.slots, counter_slot);
    if (blocked(counter)) {
      const result = Atomics.waitAsync(this.slots, counter_slot, counter);
      if (result.async) await result.value;
    }
    // The other side clears the flag before notifying; clear it for the other exits too.
    Atomics.store(this.slots, own_flag_slot, 0);
  }
}
