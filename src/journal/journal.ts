import * as fs from "node:fs";
import { BatchBuffer } from "./batch_buffer.ts";
import type { BatchChunk } from "./batch_buffer.ts";
import { GroupCommitter } from "./group_commit.ts";
import type { JournalStats } from "./journal_stats.ts";
import { MessageIndex, type MovedRecord } from "./message_index.ts";
import { QueueNameCodec } from "./queue_name_codec.ts";
import {
  encodeDropQueue,
  encodeIdList,
  encodeMessage,
  encodeSegmentStart,
  dropQueueRecordBytes,
  idListRecordBytes,
  messageRecordBytes,
  segmentStartRecordBytes,
} from "./record_encoder.ts";
import { IDS_PER_RECORD_MAX, PAYLOAD_MAX_BYTES, QUEUES_PER_MESSAGE_MAX, RecordType } from "./record_format.ts";
import { encodeSnapshot, writeSnapshot } from "./index_snapshot.ts";
import { replayDirectory } from "./replay.ts";
import type { ReplayedJournal, ReplaySink } from "./replay.ts";
import { Segment } from "./segment.ts";
import { SegmentReclaimer } from "./segment_reclaimer.ts";

export type { JournalStats } from "./journal_stats.ts";
export type { ReplaySink } from "./replay.ts";
export type { RecoveredMessages, RecoveredSink } from "./recovered_messages.ts";
export { JournalCorruptError } from "./journal_corrupt_error.ts";

export interface JournalOptions {
  dir: string;
  fsync: "always" | "never";
  /** A segment rolls over once the next record would take it past this; default 64 MiB. */
  segment_bytes?: number;
  /** Skip (and log) damaged records and segments instead of refusing to start. */
  skipDamaged?: boolean;
  /**
   * Write an index snapshot once this many records were appended since the last one (0: only at
   * a clean shutdown). One is written at a time, so a start-up after a crash scans at most about
   * twice this many records.
   */
  snapshotEveryRecords?: number;
}

export interface ReplayResult {
  /** Live messages handed to the sink, per queue (a message in two queues counts twice). */
  messages: number;
  segments: number;
  truncatedAt?: { file: string; offset: number };
  elapsed_ms: number;
  /** The index came from a snapshot; only the records after it were scanned. */
  fromSnapshot: boolean;
  records_scanned: number;
}

const SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
const SEGMENT_BYTES_MIN = 4096;
const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;

/**
 * A shard's durable message journal: one append-only log of records split into numbered
 * segment files. Appends encode into an in-memory batch (no syscall); a GroupCommitter
 * writes and syncs batches off the JS thread, one at a time.
 *
 * Disk space (SegmentReclaimer): segments are deleted oldest-first, because a segment's
 * remove records may refer to messages in older ones. Whenever the files total more than
 * twice the live bytes plus one segment, the oldest segment's live messages are rewritten
 * to the tail and it is deleted; so disk use stays near 2 x live + 1 segment whatever the
 * ack pattern.
 *
 * What survives a crash: with fsync "always", every record up to durableSeq. Replay cuts
 * off a torn tail of the newest segment and refuses (JournalCorruptError) any other damage.
 */
export class Journal {
  /** Set by the shard; called with the batch's last seq when everything up to it is durable. */
  onDurable: (seq: number) => void = () => {};

  private readonly dir: string;
  private readonly segment_bytes: number;
  private readonly skip_damaged: boolean;
  private readonly codec = new QueueNameCodec();
  private readonly index = new MessageIndex();
  private readonly buffer = new BatchBuffer();
  private readonly stats_counters: JournalStats = {
    batches: 0,
    syncs: 0,
    bytes_written: 0,
    segments_created: 0,
    segments_deleted: 0,
    messages_rewritten: 0,
    snapshots_written: 0,
  };
  private readonly committer: GroupCommitter;
  private readonly dir_fd: number;
  private readonly sync: boolean;

  /** Segments on disk (or about to be created), oldest first. */
  private segments: Segment[] = [];
  /** The segment appends go to; created by this process, so replayed files are never appended to. */
  private active: Segment | undefined;
  private newest_segment_num = 0;
  private last_seq = 0;
  private next_msg_id = 1;
  /** msgIds are journaled in increasing order: segments find a message by its id's range. */
  private last_enqueued_id = 0;
  private replayed = false;
  private closing = false;
  private readonly reclaimer: SegmentReclaimer;
  private readonly snapshotEvery_records: number;
  /** last_seq of the newest snapshot taken (written or being written). */
  private snapshot_seq = 0;
  /** The snapshot being written, if any: at most one at a time, and the shutdown's comes last. */
  private snapshotWrite: Promise<void> | null = null;

  private constructor(opts: JournalOptions) {
    const segment_bytes = opts.segment_bytes ?? SEGMENT_BYTES_DEFAULT;
    if (!Number.isSafeInteger(segment_bytes) || segment_bytes < SEGMENT_BYTES_MIN || segment_bytes > SEGMENT_BYTES_MAX) {
      throw new RangeError(`journal: segment_bytes ${segment_bytes} outside [${SEGMENT_BYTES_MIN}, ${SEGMENT_BYTES_MAX}]`);
    }
    this.dir = opts.dir;
    this.segment_bytes = segment_bytes;
    this.skip_damaged = opts.skipDamaged ?? false;
    this.snapshotEvery_records = opts.snapshotEveryRecords ?? 0;
    if (!Number.isSafeInteger(this.snapshotEvery_records) || this.snapshotEvery_records < 0) {
      throw new RangeError(`journal: snapshotEveryRecords ${this.snapshotEvery_records} is not a count`);
    }
    this.sync = opts.fsync === "always";
    fs.mkdirSync(this.dir, { recursive: true });
    this.dir_fd = fs.openSync(this.dir, "r");
    this.committer = new GroupCommitter(this.buffer, this.sync, this.dir_fd, this.stats_counters, (seq) => this.batchDurable(seq));
    this.reclaimer = new SegmentReclaimer(
      {
        index: this.index,
        codec: this.codec,
        segment_bytes,
        segments: () => this.segments,
        disk_bytes: () => this.disk_bytes,
        durable_seq: () => this.committer.durable_seq,
        running: () => !this.closing && this.committer.failure === undefined,
        rewrite: (msgId, queues, delivered, payload) => this.rewrite(msgId, queues, delivered, payload),
        fail: (err) => this.committer.fail(err),
      },
      this.dir_fd,
      this.sync,
      this.stats_counters,
    );
  }

  /** Creates the directory if needed; nothing is read until replay(). */
  static open(opts: JournalOptions): Journal {
    return new Journal(opts);
  }

  get durableSeq(): number {
    return this.committer.durable_seq;
  }

  get stats(): Readonly<JournalStats> {
    return this.stats_counters;
  }

  /** Bytes of all segment files, including appends not yet written. */
  get disk_bytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size_bytes;
    return total;
  }

  /** Bytes of the records of live messages. */
  get live_bytes(): number {
    return this.index.live_bytes;
  }

  /** Appended bytes waiting for the next batch: the shard's cue for flow control. */
  get pending_bytes(): number {
    return this.buffer.pending_bytes;
  }

  /**
   * Reads every segment (synchronously: start-up only) and hands each queue's live messages to
   * the sink as a reader that fetches them from the segments later, in msgId order. Must be
   * called once, before any append.
   */
  replay(sink: ReplaySink): ReplayResult {
    if (this.replayed || this.closing) throw new Error("journal: replay() must be called once, on an open journal");
    const started_ms = performance.now();
    let state: ReplayedJournal;
    try {
      state = replayDirectory(this.dir, this.index, this.codec, this.skip_damaged, sink);
    } catch (err) {
      this.closing = true; // unusable: release the directory descriptor now
      fs.closeSync(this.dir_fd);
      throw err;
    }
    this.segments = state.segments;
    this.newest_segment_num = state.newest_segment_num;
    this.last_seq = state.last_seq;
    this.next_msg_id = state.next_msg_id;
    this.last_enqueued_id = state.last_enqueued_id;
    this.committer.start(state.last_seq);
    this.replayed = true;
    this.reclaimer.request();
    this.snapshot_seq = state.last_seq;
    const result: ReplayResult = { messages: state.messages, segments: state.segments.length, elapsed_ms: performance.now() - started_ms, fromSnapshot: state.fromSnapshot, records_scanned: state.records_scanned };
    if (state.truncatedAt !== undefined) result.truncatedAt = state.truncatedAt;
    return result;
  }

  /** Unique and increasing for this journal, across restarts. */
  nextMsgId(): number {
    this.assertWritable();
    return this.next_msg_id++;
  }

  /**
   * Records a message routed to `queues` (all on this shard). The payload is copied into
   * the batch, so the caller may reuse its buffer. Returns the record's seq.
   */
  enqueue(msgId: number, queues: readonly string[], payload: Uint8Array): number {
    this.assertWritable();
    if (!Number.isSafeInteger(msgId) || msgId < 1 || msgId >= this.next_msg_id) {
      throw new RangeError(`journal: msgId ${msgId} was not issued by nextMsgId()`);
    }
    if (queues.length === 0 || queues.length > QUEUES_PER_MESSAGE_MAX) throw new RangeError(`journal: ${queues.length} queues for one message`);
    if (payload.length > PAYLOAD_MAX_BYTES) throw new RangeError(`journal: payload of ${payload.length} bytes exceeds ${PAYLOAD_MAX_BYTES}`);
    if (msgId <= this.last_enqueued_id) throw new RangeError(`journal: message ${msgId} is already live or out of order (last journaled: ${this.last_enqueued_id})`);
    if (queues.length > 1 && new Set(queues).size !== queues.length) throw new RangeError(`journal: message ${msgId} lists a queue twice`);
    const at = this.appendMessage(RecordType.ENQUEUE, msgId, queues, new Array<boolean>(queues.length).fill(false), payload);
    this.last_enqueued_id = msgId;
    this.index.addNative(at.segment, msgId, queues);
    return this.last_seq;
  }

  /** The messages left `queue` (acked, rejected, expired). Ids not in the queue are ignored. */
  remove(queue: string, msgIds: readonly number[]): number {
    const seq = this.appendIdList(RecordType.REMOVE, queue, msgIds);
    this.index.remove(queue, msgIds, seq);
    return seq;
  }

  /** The messages were handed to a consumer and are not acked yet: replay marks them redelivered. */
  delivered(queue: string, msgIds: readonly number[]): number {
    const seq = this.appendIdList(RecordType.DELIVERED, queue, msgIds);
    this.index.markDelivered(queue, msgIds);
    return seq;
  }

  /** The queue was deleted or purged: none of its messages survive. */
  dropQueue(queue: string): number {
    this.assertWritable();
    const name = this.codec.encode(queue);
    const record_bytes = dropQueueRecordBytes(name);
    const chunk = this.reserve(record_bytes);
    encodeDropQueue(chunk, chunk.used - record_bytes, this.last_seq, name);
    this.index.dropQueue(queue, this.next_msg_id - 1, this.last_seq);
    this.committer.schedule();
    return this.last_seq;
  }

  /** Resolves when everything appended so far is durable; rejects if the journal failed. */
  flush(): Promise<void> {
    return this.committer.waitFor(this.last_seq);
  }

  /**
   * Resolves once everything is durable and segment deletion and compaction have nothing
   * left to do, so disk use is within its bound. For tests and orderly maintenance; the
   * journal reclaims space on its own as batches complete.
   */
  async settle(): Promise<void> {
    for (;;) {
      await this.flush();
      this.reclaimer.request();
      await this.reclaimer.idle();
      if (this.committer.durable_seq === this.last_seq) return;
    }
  }

  /**
   * Clean shutdown: once everything is durable and compaction idle, writes the index snapshot
   * (index_snapshot.ts) so the next start-up need not scan the segments. Anything appended after
   * it is scanned on top of it at the next start-up.
   */
  async checkpoint(): Promise<void> {
    this.assertWritable();
    await this.snapshotWrite;
    await this.flush();
    await this.reclaimer.idle();
    await this.flush();
    await writeSnapshot(this.dir, this.captureSnapshot());
  }

  /** The index as of last_seq, copied: appends may go on while it is written. */
  private captureSnapshot(): Uint8Array {
    this.snapshot_seq = this.last_seq;
    return encodeSnapshot({
      last_seq: this.last_seq,
      next_msg_id: this.next_msg_id,
      last_enqueued_id: this.last_enqueued_id,
      newest_segment_num: this.newest_segment_num,
      segments: this.segments.map((s) => s.state()),
      index: this.index.state(),
    });
  }

  /**
   * Every snapshotEvery_records records, a snapshot of the index as of now, written once
   * everything it covers is durable (a snapshot never describes a record that a crash could still
   * take away). A failed write is logged and leaves the previous snapshot, or none: a start-up
   * then scans more, nothing else.
   */
  private maybeSnapshot(): void {
    if (this.snapshotEvery_records === 0 || this.snapshotWrite !== null || this.closing) return;
    if (this.last_seq - this.snapshot_seq < this.snapshotEvery_records) return;
    const seq = this.last_seq;
    const bytes = this.captureSnapshot();
    this.snapshotWrite = this.committer
      .waitFor(seq)
      .then(() => writeSnapshot(this.dir, bytes))
      .then(() => {
        this.stats_counters.snapshots_written++;
      })
      .catch((err: Error) => console.error(`[warn] journal: index snapshot not written (${err.message})`))
      .finally(() => {
        this.snapshotWrite = null;
      });
  }

  /** Flushes, lets a running compaction stop at a safe point, and closes every file. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.flush();
      await this.reclaimer.idle();
      await this.flush(); // rewrites a stopped compaction appended
    } finally {
      for (const segment of this.segments) {
        if (segment.fd !== undefined) fs.closeSync(segment.fd);
        segment.fd = undefined;
      }
      fs.closeSync(this.dir_fd);
    }
  }

  private assertWritable(): void {
    if (!this.replayed) throw new Error("journal: replay() must run before appends");
    if (this.closing) throw new Error("journal: closed");
    if (this.committer.failure !== undefined) throw this.committer.failure;
  }

  /**
   * Makes room for a record in the active segment, rolling to a new segment when it would
   * overflow (a record larger than a segment gets one of its own), and assigns its seq
   * (this.last_seq). The record goes at the chunk's last record_bytes of `used`.
   */
  private reserve(record_bytes: number): BatchChunk {
    const start_bytes = segmentStartRecordBytes();
    let segment = this.active;
    if (segment === undefined || (segment.size_bytes + record_bytes > this.segment_bytes && segment.size_bytes > start_bytes)) {
      segment = new Segment(++this.newest_segment_num, this.dir);
      this.segments.push(segment);
      this.active = segment;
      const start = this.reserveIn(segment, start_bytes);
      encodeSegmentStart(start, start.used - start_bytes, this.last_seq, segment.num, this.next_msg_id);
    }
    const chunk = this.reserveIn(segment, record_bytes);
    this.committer.schedule();
    return chunk;
  }

  private reserveIn(segment: Segment, record_bytes: number): BatchChunk {
    const seq = ++this.last_seq;
    const chunk = this.buffer.reserve(segment, segment.size_bytes, record_bytes, seq);
    segment.size_bytes += record_bytes;
    segment.last_seq = seq;
    return chunk;
  }

  /** Appends a message record; returns where it went. */
  private appendMessage(
    type: typeof RecordType.ENQUEUE | typeof RecordType.REWRITE,
    msgId: number,
    queues: readonly string[],
    delivered: readonly boolean[],
    payload: Uint8Array,
  ): MovedRecord {
    const record_bytes = messageRecordBytes(this.codec, queues, payload.length);
    const chunk = this.reserve(record_bytes);
    const segment = this.active!;
    const record_offset = segment.size_bytes - record_bytes;
    const payload_at = encodeMessage(chunk, chunk.used - record_bytes, record_bytes, this.last_seq, type, this.codec, msgId, queues, delivered, payload);
    return { segment, record_offset, record_bytes, payload_offset: record_offset + payload_at, payload_bytes: payload.length };
  }

  /** REMOVE or DELIVERED, split into records of at most IDS_PER_RECORD_MAX ids; returns the last seq. */
  private appendIdList(type: typeof RecordType.REMOVE | typeof RecordType.DELIVERED, queue: string, msgIds: readonly number[]): number {
    this.assertWritable();
    if (msgIds.length === 0) throw new RangeError("journal: empty msgId list");
    for (const msgId of msgIds) {
      if (!Number.isSafeInteger(msgId) || msgId < 1) throw new RangeError(`journal: bad msgId ${msgId}`);
    }
    const name = this.codec.encode(queue);
    for (let from = 0; from < msgIds.length; from += IDS_PER_RECORD_MAX) {
      const to = Math.min(from + IDS_PER_RECORD_MAX, msgIds.length);
      const record_bytes = idListRecordBytes(name, to - from);
      const chunk = this.reserve(record_bytes);
      encodeIdList(chunk, chunk.used - record_bytes, this.last_seq, type, name, msgIds, from, to);
    }
    return this.last_seq;
  }

  private batchDurable(seq: number): void {
    this.maybeSnapshot();
    try {
      this.onDurable(seq);
    } catch (err) {
      // The shard's bug, not the journal's: surface it without stopping the writer.
      queueMicrotask(() => {
        throw err;
      });
    }
    this.reclaimer.request();
  }

  private rewrite(msgId: number, queues: readonly string[], delivered: readonly boolean[], payload: Uint8Array): void {
    const moved = this.appendMessage(RecordType.REWRITE, msgId, queues, delivered, payload);
    this.index.addMoved(moved.segment, msgId, queues, delivered, moved, this.last_seq);
    this.stats_counters.messages_rewritten++;
  }
}
