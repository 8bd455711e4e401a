// One flag shared by the acceptor and every shard: the memory alarm is in force. A shard's heap
// then holds the queues' columns and slabs (hundreds of MiB), and the short-lived objects of a fast
// drain (an entry and an unacked record per delivery) survive the young collections long enough to
// be promoted: left to the collector's own pace they would only go at the next full collection,
// after the heap has grown by a good part of its size, the opposite of what the alarm asks for. So
// while the flag is set a shard runs a full collection at most every COLLECT_EVERY_MS (measured at
// about 25 ms on a heap of 8 million queued messages).
const COLLECT_EVERY_MS = 250;

export class MemoryPressure {
  readonly sab = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.sab);

  set(on: boolean): void {
    Atomics.store(this.flag, 0, on ? 1 : 0);
  }
}

/** The shard's side: collect() after each batch runs a full collection when it is due. */
export class PressureValve {
  private readonly flag: Int32Array;
  private last_ms = 0;

  constructor(sab: SharedArrayBuffer) {
    this.flag = new Int32Array(sab);
  }

  collect(): void {
    if (Atomics.load(this.flag, 0) === 0) return;
    const now_ms = performance.now();
    if (now_ms - this.last_ms < COLLECT_EVERY_MS) return;
    this.last_ms = now_ms;
    Bun.gc(true);
  }
}
