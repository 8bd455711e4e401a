// Records over one SPSC ring, in either direction (acceptor→shard or shard→acceptor).
//
// The ring holds records up to `maxRecordBytes`; this layer adds what the broker needs on top:
// - records of any size (a 128 MiB message body) are cut into fragments and reassembled on the far
//   side, so a body larger than the ring still gets through;
// - a full ring never drops or blocks: the sender keeps an ordered backlog and reports `backlogged`,
//   so its owner stops feeding it (pauses sockets, stops delivering) until `onDrained` fires.
//   The backlog is bounded by what the owner produces before it sees `backlogged`.
import { copyBytes } from "../copy_bytes.ts";
import { RingReader, RingWriter } from "./ring.ts";

/** First byte of a fragment record. Record types of the broker never use it. */
export const FRAGMENT_RECORD = 0xff;
/** Fragment header: type u8, 3 pad, total length u32 (set on every fragment; the receiver checks it). */
const FRAGMENT_HEADER_BYTES = 8;
/** Largest reassembled record: a 128 MiB body plus its envelope. */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024 + 64 * 1024;
const NO_BYTES = new Uint8Array(0);

export class RecordSender {
  private readonly ring: RingWriter;
  private readonly backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private draining = false;
  /** Called once the backlog is empty again (after `backlogged` was true). */
  onDrained: () => void = () => {};

  constructor(sab: SharedArrayBuffer) {
    this.ring = new RingWriter(sab);
  }

  get backlogged(): boolean {
    return this.backlog.length > 0;
  }

  /** Bytes sent that the reader has not taken yet: in the ring and in the backlog. */
  get unreadBytes(): number {
    return this.ring.unreadBytes + this.backlogBytes;
  }

  /** Queue the record `head[0..headLen) ++ tail[tailAt..tailAt+tailLen)`; visible to the reader after flush(). */
  send(head: Uint8Array, headLen: number, tail?: Uint8Array, tailLen = 0, tailAt = 0): void {
    this.sendParts(head, headLen, NO_BYTES, tail, tailLen, tailAt);
  }

  /** Queue the record `head[0..headLen) ++ middle ++ tail[tailAt..tailAt+tailLen)`, each copied once. */
  sendParts(head: Uint8Array, headLen: number, middle: Uint8Array, tail?: Uint8Array, tailLen = 0, tailAt = 0): void {
    const middleLen = middle.length;
    const total = headLen + middleLen + tailLen;
    if (total > MAX_RECORD_BYTES) throw new Error(`record of ${total} bytes exceeds ${MAX_RECORD_BYTES}`);
    const at = total > this.ring.maxRecordBytes || this.backlog.length > 0 ? -1 : this.ring.reserve(total);
    const dst = at >= 0 ? this.ring.u8 : new Uint8Array(total);
    const start = at >= 0 ? at : 0;
    copyBytes(dst, start, head, 0, headLen);
    if (middleLen > 0) copyBytes(dst, start + headLen, middle, 0, middleLen);
    if (tail !== undefined && tailLen > 0) copyBytes(dst, start + headLen + middleLen, tail, tailAt, tailLen);
    if (at >= 0) this.ring.commit(total);
    else if (total > this.ring.maxRecordBytes) this.sendFragmented(dst);
    else this.pushBacklog(dst);
  }

  /** Publish everything sent since the last flush (one tail store, at most one wake-up). */
  flush(): void {
    if (this.ring.pendingBytes > 0) this.ring.publish();
  }

  private sendFragmented(whole: Uint8Array): void {
    const total = whole.length;
    const chunk = this.ring.maxRecordBytes - FRAGMENT_HEADER_BYTES;
    for (let off = 0; off < total; off += chunk) {
      const n = Math.min(chunk, total - off);
      const frag = new Uint8Array(FRAGMENT_HEADER_BYTES + n);
      frag[0] = FRAGMENT_RECORD;
      new DataView(frag.buffer).setUint32(4, total);
      frag.set(whole.subarray(off, off + n), FRAGMENT_HEADER_BYTES);
      if (this.backlog.length === 0) {
        const at = this.ring.reserve(frag.length);
        if (at >= 0) {
          this.ring.u8.set(frag, at);
          this.ring.commit(frag.length);
          continue;
        }
      }
      this.pushBacklog(frag);
    }
  }

  private pushBacklog(record: Uint8Array): void {
    this.backlog.push(record);
    this.backlogBytes += record.length;
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    this.flush();
    while (this.backlog.length > 0) {
      const first = this.backlog[0]!;
      await this.ring.waitForSpace(first.length);
      let moved = 0;
      for (const record of this.backlog) {
        const at = this.ring.reserve(record.length);
        if (at < 0) break;
        this.ring.u8.set(record, at);
        this.ring.commit(record.length);
        this.backlogBytes -= record.length;
        moved++;
      }
      this.backlog.splice(0, moved);
      this.flush();
    }
    this.draining = false;
    this.onDrained();
  }
}

/** Handles one whole record in place; `u8`/`view` are valid only during the call. */
export type RecordHandler = (u8: Uint8Array, view: DataView, offset: number, length: number) => void;

/** Records handled per batch before yielding to the event loop, so sockets and timers keep running. */
const BATCH_RECORDS = 4096;

export class RecordReceiver {
  private readonly ring: RingReader;
  private assembly: Uint8Array | null = null;
  private assembled = 0;
  private stopped = false;

  /**
   * @param onRecord called for every record, in order.
   * @param onBatchEnd called after each batch (with its record count), once the ring head is
   *   released: the place to flush whatever the batch produced (socket writes, replies) in one go.
   * @param gate consulted after each batch: a promise means "take no more records until it
   *   settles" (a shard whose journal is behind stops reading, so the ring fills and the acceptor
   *   stops reading the sockets that feed it: back-pressure instead of unbounded memory).
   */
  constructor(
    sab: SharedArrayBuffer,
    private readonly onRecord: RecordHandler,
    private readonly onBatchEnd: (records: number) => void,
    private readonly gate: () => Promise<void> | null = () => null,
  ) {
    this.ring = new RingReader(sab);
  }

  /** Runs until stop(): drains in batches, sleeps on the ring only when it is empty. */
  async run(): Promise<void> {
    while (!this.stopped) {
      let handled = 0;
      while (handled < BATCH_RECORDS) {
        const at = this.ring.next();
        if (at < 0) break;
        this.dispatch(at, this.ring.recordLength);
        handled++;
      }
      this.ring.release();
      if (handled > 0) this.onBatchEnd(handled);
      const closed = this.gate();
      if (closed !== null) await closed;
      else if (handled === BATCH_RECORDS) await new Promise<void>((resolve) => setImmediate(resolve));
      else if (!this.stopped) await this.ring.waitForData();
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private dispatch(at: number, length: number): void {
    const u8 = this.ring.u8;
    if (u8[at] !== FRAGMENT_RECORD) {
      this.onRecord(u8, this.ring.view, at, length);
      return;
    }
    const total = this.ring.view.getUint32(at + 4);
    if (this.assembly === null) {
      if (total > MAX_RECORD_BYTES) throw new Error(`fragmented record of ${total} bytes exceeds the limit`);
      this.assembly = new Uint8Array(total);
      this.assembled = 0;
    }
    if (this.assembly.length !== total) throw new Error("fragment total does not match its record");
    const n = length - FRAGMENT_HEADER_BYTES;
    this.assembly.set(u8.subarray(at + FRAGMENT_HEADER_BYTES, at + length), this.assembled);
    this.assembled += n;
    if (this.assembled === total) {
      const whole = this.assembly;
      this.assembly = null;
      this.onRecord(whole, new DataView(whole.buffer), 0, total);
    }
  }
}
