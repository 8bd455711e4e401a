// Dead-lettered journaled messages on their way from the queue that let them go to the queues its
// dead-letter exchange routes them to. The copies are published to the target shards on a channel
// of the broker's own (DEAD_LETTER_CHANNEL) with confirms; once every target shard has confirmed
// its copy (durable there, if the target journals it), the source shard is told to forget the
// original. A crash before that leaves the original in the source's journal: it comes back to its
// queue and is dead-lettered again, so a dead-lettered message is delivered at least once.
import { Deque } from "../shard/deque.ts";

/** Channel ids start at 1: 0 is the broker's own, for dead-letter copies. */
export const DEAD_LETTER_CHANNEL = 0;

interface Handoff {
  readonly sourceShard: number;
  readonly handoffId: number;
  /** Target shards that have not confirmed yet. */
  waiting: number;
}

export class DeadLetterHandoffs {
  private nextSeq = 1;
  /** Per target shard, the copies it has not confirmed, in publish order (confirms are cumulative). */
  private readonly unconfirmed = new Map<number, Deque<{ seq: number; handoff: Handoff }>>();

  /**
   * A copy goes to each of `targetShards` with the returned seq. With no targets the source may
   * forget the message at once (`done` is called now).
   */
  begin(sourceShard: number, handoffId: number, targetShards: Iterable<number>, done: (sourceShard: number, handoffId: number) => void): number {
    const seq = this.nextSeq++;
    const handoff: Handoff = { sourceShard, handoffId, waiting: 0 };
    for (const shard of targetShards) {
      let queue = this.unconfirmed.get(shard);
      if (queue === undefined) this.unconfirmed.set(shard, (queue = new Deque()));
      queue.push({ seq, handoff });
      handoff.waiting++;
    }
    if (handoff.waiting === 0) done(sourceShard, handoffId);
    return seq;
  }

  /**
   * The target shard settled every copy up to `seq` (a confirm; a copy a full queue refused with
   * reject-publish is confirmed after its nack: it will never take it either way); calls `done` for
   * each handoff now complete.
   */
  settled(shard: number, seq: number, done: (sourceShard: number, handoffId: number) => void): void {
    const queue = this.unconfirmed.get(shard);
    while (queue !== undefined && queue.length > 0 && queue.peek()!.seq <= seq) {
      const { handoff } = queue.shift()!;
      if (--handoff.waiting === 0) done(handoff.sourceShard, handoff.handoffId);
    }
  }
}
