// Publisher confirms of one channel. Every publish after confirm.select gets the next sequence
// number; it is confirmed once each shard it went to has settled it. Shards settle a channel's
// publishes in order and report a watermark, so each shard's outstanding seqs form a FIFO.
// Acks go out in order, coalesced as multiple=true; a publish refused by a queue is nacked.

export interface ConfirmSink {
  /** Acks every seq up to `seq` not acked or nacked yet: `count` publishes. */
  ack(seq: number, multiple: boolean, count: number): void;
  nack(seq: number): void;
}

export class ConfirmTracker {
  private nextSeq = 1;
  /** Lowest seq not yet acked or nacked to the client. */
  private base = 1;
  /** Shards still to settle each seq in [base, nextSeq). */
  private remaining: number[] = [];
  private readonly nacked = new Set<number>();
  /** Per shard: seqs sent to it, oldest first. */
  private readonly perShard = new Map<number, number[]>();

  /** Numbers the next publish; call `sentTo` for each shard it goes to, then `settled()`. */
  take(): number {
    this.remaining.push(0);
    return this.nextSeq++;
  }

  sentTo(seq: number, shard: number): void {
    this.remaining[seq - this.base]!++;
    let fifo = this.perShard.get(shard);
    if (fifo === undefined) this.perShard.set(shard, (fifo = []));
    fifo.push(seq);
  }

  markNacked(seq: number): void {
    if (seq >= this.base) this.nacked.add(seq);
  }

  /** A shard settled every publish of this channel up to `upTo`. */
  shardConfirmed(shard: number, upTo: number, sink: ConfirmSink): void {
    const fifo = this.perShard.get(shard);
    if (fifo === undefined) return;
    let n = 0;
    while (n < fifo.length && fifo[n]! <= upTo) {
      this.remaining[fifo[n]! - this.base]!--;
      n++;
    }
    fifo.splice(0, n);
    this.emit(sink);
  }

  /** Sends acks/nacks for the settled prefix. */
  emit(sink: ConfirmSink): void {
    let done = 0;
    let runEnd = 0;
    let run = 0;
    while (done < this.remaining.length && this.remaining[done] === 0) {
      const seq = this.base + done;
      if (this.nacked.has(seq)) {
        if (runEnd !== 0) sink.ack(runEnd, true, run);
        runEnd = 0;
        run = 0;
        this.nacked.delete(seq);
        sink.nack(seq);
      } else {
        runEnd = seq;
        run++;
      }
      done++;
    }
    if (runEnd !== 0) sink.ack(runEnd, true, run);
    if (done > 0) {
      this.remaining.splice(0, done);
      this.base += done;
    }
  }
}
