import { invariant } from "../invariant.ts";

/**
 * Memory layout shared by RingWriter and RingReader.
 *
 * [ header: RING_HEADER_BYTES ][ data area: capacity_bytes (power of two) ]
 *
 * Header Int32 slots. Each side only stores to its own 64-byte cache line
 * (except the rare flag hand-off below), so the hot stores of one side never
 * invalidate the line the other side stores to:
 *   line 0 (writer): TAIL_SLOT, WRITER_WAITING_SLOT
 *   line 1 (reader): HEAD_SLOT, READER_SLEEPING_SLOT
 * A sleep flag is set by its owner and cleared by the other side with a
 * compareExchange right before it notifies, so each sleep is woken at most once.
 *
 * Head and tail are byte counters that only grow, kept as int32 and wrapping
 * mod 2^32. Why this is sound (no overflow, no ABA):
 *  - 2^32 is a multiple of capacity_bytes (a power of two <= 2^30), so
 *    `counter & (capacity_bytes - 1)` is the data-area position before and
 *    after the counter wraps.
 *  - The writer never lets tail - head exceed capacity_bytes, so the
 *    modular difference `(tail - head) | 0` lies in [0, 2^30] and is never
 *    ambiguous.
 *  - A waiter sleeps on "slot still equals v". For the value to leave v and
 *    come back (ABA) the counter would have to advance by 2^32 bytes while the
 *    other side is asleep, but it cannot advance more than capacity_bytes
 *    past the sleeper's own counter without the sleeper consuming/releasing.
 *
 * Record: an 8-byte header (int32 little-endian payload length, then 4
 * unused bytes) followed by the payload, the whole slot rounded up to 8
 * bytes. The 4-byte length is padded to 8 so every payload starts 8-byte
 * aligned for DataView access. Records never wrap: if the bytes left before
 * the end of the data area cannot hold the slot, a PADDING_MARKER length is
 * written there and the record starts at position 0.
 */
export const RING_HEADER_BYTES = 128;

export const TAIL_SLOT = 0;
export const WRITER_WAITING_SLOT = 1;
export const HEAD_SLOT = 16;
export const READER_SLEEPING_SLOT = 17;
const HEADER_SLOTS = RING_HEADER_BYTES / Int32Array.BYTES_PER_ELEMENT;

export const RECORD_HEADER_BYTES = 8;
export const RECORD_ALIGN_BYTES = 8;
export const PADDING_MARKER = -1;

export const RING_MIN_CAPACITY_BYTES = 64;
export const RING_MAX_CAPACITY_BYTES = 2 ** 30;

/**
 * A quarter of the ring: guarantees that padding (< one slot) plus one
 * maximal slot always fit in a drained ring, so waiting for space always ends.
 */
const MAX_RECORD_FRACTION = 4;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function createRing(capacity_bytes: number): SharedArrayBuffer {
  invariant(isPowerOfTwo(capacity_bytes), "ring", "ring capacity must be a power of two");
  invariant(
    capacity_bytes >= RING_MIN_CAPACITY_BYTES && capacity_bytes <= RING_MAX_CAPACITY_BYTES,
    "ring",
    "ring capacity out of range",
  );
  invariant(HEAD_SLOT < HEADER_SLOTS && READER_SLEEPING_SLOT < HEADER_SLOTS, "ring", "header slots fit the header");
  // A fresh SharedArrayBuffer is zeroed: head = tail = 0, nobody waiting.
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacity_bytes);
}

/** Data-area size of a ring made by createRing, validated. */
export function ringCapacityBytes(sab: SharedArrayBuffer): number {
  const capacity_bytes = sab.byteLength - RING_HEADER_BYTES;
  invariant(
    isPowerOfTwo(capacity_bytes) &&
      capacity_bytes >= RING_MIN_CAPACITY_BYTES &&
      capacity_bytes <= RING_MAX_CAPACITY_BYTES,
    "ring",
    "buffer is not a ring made by createRing",
  );
  return capacity_bytes;
}

export function maxRecordBytes(capacity_bytes: number): number {
  return capacity_bytes / MAX_RECORD_FRACTION;
}

/** Bytes a record with this payload occupies in the data area. */
export function recordSlotBytes(payload_bytes: number): number {
  return (RECORD_HEADER_BYTES + payload_bytes + RECORD_ALIGN_BYTES - 1) & ~(RECORD_ALIGN_BYTES - 1);
}
