// When threads run a full collection of their own heap, beyond the collector's own pace.
//
// Under the memory alarm (one flag shared by the acceptor and every shard) a shard's heap holds the
// queues' columns and slabs (hundreds of MiB), and the short-lived objects of a fast drain (an entry
// and an unacked record per delivery) survive the young collections long enough to be promoted:
// left to the collector's own pace they would only go at the next full collection, after the heap
// has grown by a good part of its size, the opposite of what the alarm asks for. So while the flag
// is set a shard runs a full collection at most every COLLECT_EVERY_MS (measured at about 25 ms on a
// heap of 8 million queued messages).
import { heapSize } from "bun:jsc";

const COLLECT_EVERY_MS = 250;

// Without the alarm, a burst (a million publishes into a paged queue in a second or two) leaves a
// thread's heap at its peak: the collector's own pace returns that memory only after ~10 s, or at
// the next burst, and the acceptor's heap (which the shards' collections do not touch) only ever
// grew: 11 -> 27 -> 43 MiB over two fills of 1M messages. A thread whose heap (cells plus the
// ArrayBuffers it reports) has grown by IDLE_GROWTH_BYTES since its last full collection, and which
// then has IDLE_MS without a batch, runs one (a few ms with a paged backlog).
const IDLE_MS = 250;
const IDLE_GROWTH_BYTES = 8 * 1024 * 1024;

export class MemoryPressure {
  readonly sab = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.sab);

  set(on: boolean): void {
    Atomics.store(this.flag, 0, on ? 1 : 0);
  }
}

/** afterBatch() after each batch of work: a full collection once the thread goes idle after its heap grew. */
export class IdleCollector {
  private lastBatch_ms = 0;
  private heapAfter_bytes: number;
  private idleCheck: ReturnType<typeof setTimeout> | null = null;

  constructor(
    /** The thread's heap size in bytes, and its full collection (replaced by tests). */
    private readonly heap_bytes: () => number = heapSize,
    private readonly fullCollection: () => void = () => Bun.gc(true),
  ) {
    this.heapAfter_bytes = heap_bytes();
  }

  afterBatch(now_ms: number): void {
    this.lastBatch_ms = now_ms;
    if (this.idleCheck === null && this.heap_bytes() >= this.heapAfter_bytes + IDLE_GROWTH_BYTES) this.arm(IDLE_MS);
  }

  /** A full collection now (the alarm's); the idle one then waits for the next growth. */
  collect(): void {
    if (this.idleCheck !== null) clearTimeout(this.idleCheck);
    this.idleCheck = null;
    this.fullCollection();
    this.heapAfter_bytes = this.heap_bytes();
  }

  private arm(delay_ms: number): void {
    // unref: an idle check never keeps a process alive (brokers built by unit tests exit).
    this.idleCheck = setTimeout(() => this.onIdleCheck(), delay_ms);
    this.idleCheck.unref();
  }

  private onIdleCheck(): void {
    this.idleCheck = null;
    const idle_ms = performance.now() - this.lastBatch_ms;
    if (idle_ms >= IDLE_MS) this.collect();
    else this.arm(IDLE_MS - idle_ms);
  }
}

/** The shard's side: afterBatch() after each batch, a full collection when the alarm or idleness asks. */
export class PressureValve {
  private readonly flag: Int32Array;
  private last_ms = 0;
  private readonly idle = new IdleCollector();

  constructor(sab: SharedArrayBuffer) {
    this.flag = new Int32Array(sab);
  }

  afterBatch(): void {
    const now_ms = performance.now();
    if (Atomics.load(this.flag, 0) !== 0 && now_ms - this.last_ms >= COLLECT_EVERY_MS) {
      this.last_ms = now_ms;
      this.idle.collect();
      return;
    }
    this.idle.afterBatch(now_ms);
  }
}
