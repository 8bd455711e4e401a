// Flow control from the queues back to the publishing sockets. Nothing is ever dropped: a publisher
// that must slow down simply is not read (TCP back-pressure), for one of three reasons:
//  - ring congestion: the ring to a shard holds more unread publish bytes than RING_HIGH_BYTES.
//    Acks, consumes and other connections' records travel in the same ring, so a flood may never
//    stand more than about a millisecond of shard work in front of them;
//  - queue flow: a queue with consumers holds a backlog past its flow mark (the shard says so,
//    ToAcceptor.flow): its publishers are read only as fast as its consumers take messages out;
//  - a resource alarm (memory or disk): every connection that publishes is blocked, and told so
//    with connection.blocked when it asked for that capability, until the alarm clears.
// A connection with consumers of its own is not paused for queue flow: its acks arrive on the same
// socket, and not reading them could keep the queue from ever draining.
import type { ShardLink } from "../link/shard_link.ts";
import type { QueueRecord } from "./queue_record.ts";

/** What flow control needs of a publishing connection. */
export interface Publisher {
  pauseReading(by: unknown): void;
  resumeReading(by: unknown): void;
  /** True while the connection has consumers (see the file comment). */
  readonly consuming: boolean;
  /** connection.blocked / unblocked, for clients that asked for them. */
  notifyBlocked(reason: string): void;
  notifyUnblocked(): void;
}

/** Unread bytes in a shard's inbound ring past which publishers to it are paused... */
const RING_HIGH_BYTES = 1024 * 1024;
/** ...until the shard has read it down to this. */
const RING_LOW_BYTES = 256 * 1024;
/** How often paused publishers check the rings when no shard record arrives to trigger it. */
const RING_POLL_MS = 1;

export class PublishFlow {
  /** Publishers paused per congested shard link. */
  private readonly congested = new Map<ShardLink, Set<Publisher>>();
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  /** The active alarm's reason ("low on memory", "low on disk"), or null. */
  private alarmReason: string | null = null;
  private readonly blocked = new Set<Publisher>();
  /** Counts, for the benchmark and the management API. */
  blockedEvents = 0;

  /** After a publish was written to `link`: pause its publisher while the ring is congested. */
  sent(publisher: Publisher, link: ShardLink): void {
    if (link.unreadBytes <= RING_HIGH_BYTES) return;
    let paused = this.congested.get(link);
    if (paused === undefined) this.congested.set(link, (paused = new Set()));
    if (paused.has(publisher)) return;
    paused.add(publisher);
    publisher.pauseReading(link);
    this.pollTimer ??= setTimeout(this.poll, RING_POLL_MS);
  }

  /** A publish is routed to a queue in flow. */
  queueInFlow(publisher: Publisher, queue: QueueRecord): void {
    if (publisher.consuming || queue.flowPaused.has(publisher)) return;
    queue.flowPaused.add(publisher);
    publisher.pauseReading(queue);
  }

  /** The queue left flow (or is gone): its paused publishers are read again. */
  queueFlowOff(queue: QueueRecord): void {
    queue.inFlow = false;
    for (const publisher of queue.flowPaused) publisher.resumeReading(queue);
    queue.flowPaused.clear();
  }

  /** Resumes publishers of rings the shards have read down (called after every batch from a shard). */
  check(): void {
    for (const [link, paused] of this.congested) {
      if (link.unreadBytes > RING_LOW_BYTES) continue;
      this.congested.delete(link);
      for (const publisher of paused) publisher.resumeReading(link);
    }
  }

  private readonly poll = (): void => {
    this.pollTimer = null;
    this.check();
    if (this.congested.size > 0) this.pollTimer = setTimeout(this.poll, RING_POLL_MS);
  };

  // --- resource alarms -----------------------------------------------------------------------

  get alarmed(): boolean {
    return this.alarmReason !== null;
  }

  /** A connection publishes while an alarm is active: it is told and no longer read. */
  block(publisher: Publisher): void {
    if (this.alarmReason === null || this.blocked.has(publisher)) return;
    this.blocked.add(publisher);
    this.blockedEvents++;
    publisher.notifyBlocked(this.alarmReason);
    publisher.pauseReading(this);
  }

  /** An alarm was set (reason) or every alarm cleared (null). */
  setAlarm(reason: string | null): void {
    this.alarmReason = reason;
    if (reason !== null) return;
    for (const publisher of this.blocked) {
      publisher.notifyUnblocked();
      publisher.resumeReading(this);
    }
    this.blocked.clear();
  }

  /** A closed connection leaves every set it may be in. */
  forget(publisher: Publisher): void {
    this.blocked.delete(publisher);
    for (const paused of this.congested.values()) paused.delete(publisher);
  }
}
