// One flag shared by the acceptor and every shard: the memory alarm is in force. A shard's heap
// then holds the queues' columns and slabs (hundreds of MiB), and the short-lived objects of a fast
// drain (an entry and an unacked record per delivery) survive the young collections long enough to
// be promoted: left to the collector's own pace they would only go at the next full collection,
// after the heap has grown by a good part of its size, the opposite of what the alarm asks for. So
// while the flag is set a shard runs a full collection at most every COLLECT_EVERY_MS (measured at
// about 25 ms on a heap of 8 million queued messages).
const COLLECT_EVERY_MS = 250;

// Without the alarm, a burst (a million publishes into a paged queue in a second or two) leaves the
// shard's heap at its peak: the collector's own pace returns that memory only after ~10 s, or at
// the next burst. A shard that has been idle for IDLE_MS after at least IDLE_AFTER_RECORDS records
// runs one full collection (a few ms with a paged backlog): 1M queued 16 B messages then settle at
// ~95 MiB RSS within a second instead of ~134 MiB for ten.
const IDLE_MS = 250;
const IDLE_AFTER_RECORDS = 10_000;

export class MemoryPressure {
  readonly sab = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.sab);

  set(on: boolean): void {
    Atomics.store(this.flag, 0, on ? 1 : 0);
  }
}

/**
 * The shard's side: afterBatch() after each batch runs a full collection when one is due, under
 * the alarm or once the shard has gone idle after a burst.
 */
export class PressureValve {
  private readonly flag: Int32Array;
  private last_ms = 0;
  private lastBatch_ms = 0;
  private recordsSinceCollection = 0;
  private idleCheck: ReturnType<typeof setTimeout> | null = null;

  constructor(sab: SharedArrayBuffer) {
    this.flag = new Int32Array(sab);
  }

  afterBatch(records: number): void {
    const now_ms = performance.now();
    this.lastBatch_ms = now_ms;
    this.recordsSinceCollection += records;
    if (Atomics.load(this.flag, 0) !== 0 && now_ms - this.last_ms >= COLLECT_EVERY_MS) return this.collect(now_ms);
    if (this.idleCheck === null && this.recordsSinceCollection >= IDLE_AFTER_RECORDS) {
      this.idleCheck = setTimeout(() => this.onIdleCheck(), IDLE_MS);
    }
  }

  private onIdleCheck(): void {
    const idle_ms = performance.now() - this.lastBatch_ms;
    this.idleCheck = idle_ms >= IDLE_MS ? null : setTimeout(() => this.onIdleCheck(), IDLE_MS - idle_ms);
    if (this.idleCheck === null) this.collect(performance.now());
  }

  private collect(now_ms: number): void {
    this.last_ms = now_ms;
    this.recordsSinceCollection = 0;
    Bun.gc(true);
  }
}
