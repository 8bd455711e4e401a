// Exactly-once accounting: which (producer, sequence) pairs a set of queues delivered. Every body
// carries its producer's id and a sequence number counting from 0; a tracker keeps one bitset per
// producer, so lost = published - distinct and duplicated = deliveries of an already-seen pair.

/** Producer ids at or above this are foreign (a body not written by this run's producers). */
export const PRODUCERS_MAX = 4096;
const INITIAL_WORDS = 1024;

export class SeqTracker {
  distinct = 0;
  duplicated = 0;
  /** Deliveries whose stamp names no producer of this run. */
  foreign = 0;
  private readonly seen: (Uint32Array | undefined)[] = [];

  record(producer: number, seq: number): void {
    if (producer >= PRODUCERS_MAX) {
      this.foreign++;
      return;
    }
    const word = seq >>> 5;
    let bits = this.seen[producer];
    if (bits === undefined || word >= bits.length) bits = this.grow(producer, word);
    const mask = 1 << (seq & 31);
    const w = bits[word]!;
    if ((w & mask) !== 0) {
      this.duplicated++;
      return;
    }
    bits[word] = w | mask;
    this.distinct++;
  }

  private grow(producer: number, word: number): Uint32Array {
    const old = this.seen[producer];
    let size = old === undefined ? INITIAL_WORDS : old.length * 2;
    while (size <= word) size *= 2;
    const grown = new Uint32Array(size);
    if (old !== undefined) grown.set(old);
    this.seen[producer] = grown;
    return grown;
  }
}
