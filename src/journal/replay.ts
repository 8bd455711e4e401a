import * as fs from "node:fs";
import * as path from "node:path";
import { preadFully } from "./file_io.ts";
import { JournalCorruptError } from "./journal_corrupt_error.ts";
import type { MessageIndex } from "./message_index.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import type { DecodedRecord } from "./record_decoder.ts";
import { RecordType } from "./record_format.ts";
import { RecoveredMessages } from "./recovered_messages.ts";
import { Segment, parseSegmentFileName, segmentFileName } from "./segment.ts";
import { takeSnapshot } from "./index_snapshot.ts";
import { scanSegment } from "./segment_scanner.ts";

export interface ReplaySink {
  /** Once per queue with live messages: they are read from the segments as it takes them. */
  queue(name: string, messages: RecoveredMessages): void;
}

export interface ReplayedJournal {
  /** Readable segments, oldest first. */
  readonly segments: Segment[];
  /** Highest segment number present on disk (readable or not), 0 if none. */
  readonly newest_segment_num: number;
  readonly last_seq: number;
  readonly next_msg_id: number;
  readonly messages: number;
  readonly truncatedAt?: { file: string; offset: number };
  /** The index came from a clean shutdown's snapshot: no segment was scanned. */
  readonly fromSnapshot: boolean;
}

/**
 * Rebuilds the index, from the snapshot a clean shutdown left when it matches the files, else
 * from every segment in `dir`, oldest first; then hands each queue's live messages to the sink
 * as a reader (nothing of them is kept in memory). Synchronous: it runs once at start-up,
 * before the shard serves. A torn tail of the newest segment is cut off here (and synced), so
 * the next start-up, where this segment is no longer the newest, does not mistake it for damage.
 */
export function replayDirectory(dir: string, index: MessageIndex, codec: QueueNameCodec, skip_damaged: boolean, sink: ReplaySink): ReplayedJournal {
  const nums = fs
    .readdirSync(dir)
    .map(parseSegmentFileName)
    .filter((num): num is number => num !== undefined)
    .sort((a, b) => a - b);
  const snapshot = takeSnapshot(dir, nums);
  if (snapshot !== null) {
    const restored = snapshot.segments.map((state) => Segment.restore(state, dir));
    index.restore(snapshot.index, restored);
    return { segments: restored, newest_segment_num: snapshot.newest_segment_num, last_seq: snapshot.last_seq, next_msg_id: snapshot.next_msg_id, messages: handOut(restored, index, codec, sink), fromSnapshot: true };
  }
  const segments: Segment[] = [];
  let expected_seq: number | undefined;
  let last_seq = 0;
  let next_msg_id = 1;
  let last_enqueued = 0;
  let shared: Uint8Array = new Uint8Array(0);
  let truncatedAt: { file: string; offset: number } | undefined;

  const damaged = (file: string, reason: string): void => {
    if (!skip_damaged) throw new JournalCorruptError(file, 0, reason);
    console.error(`[warn] journal: skipped ${reason}: ${file}`);
    expected_seq = undefined;
  };

  for (let i = 0; i < nums.length; i++) {
    const segment = new Segment(nums[i]!, dir);
    const previous = nums[i - 1];
    if (previous !== undefined && segment.num !== previous + 1) {
      damaged(path.join(dir, segmentFileName(previous + 1)), "segment missing from the numbered sequence");
    }
    let bytes: Uint8Array;
    try {
      // One buffer for every segment: nothing replay keeps refers to a segment's bytes.
      bytes = readInto(segment.path, (buffer) => (shared = buffer), shared);
    } catch (err) {
      damaged(segment.path, `unreadable segment (${(err as Error).message})`);
      continue;
    }
    const apply = (record: DecodedRecord, offset: number): void => {
      switch (record.type) {
        case RecordType.SEGMENT_START:
          next_msg_id = Math.max(next_msg_id, record.next_msg_id);
          return;
        case RecordType.ENQUEUE:
          if (record.msgId <= last_enqueued) {
            if (!skip_damaged) throw new JournalCorruptError(segment.path, offset, `message ${record.msgId} enqueued twice or out of order`);
            console.error(`[warn] journal: skipped out-of-order enqueue of message ${record.msgId} in ${segment.path} at ${offset}`);
            return;
          }
          last_enqueued = record.msgId;
          index.addNative(segment, record.msgId, record.queues);
          next_msg_id = Math.max(next_msg_id, record.msgId + 1);
          return;
        case RecordType.REWRITE:
          index.addMoved(segment, record.msgId, record.queues, record.delivered, {
            segment,
            record_offset: offset,
            record_bytes: record.record_bytes,
            payload_offset: offset + record.payload_offset,
            payload_bytes: record.payload_bytes,
          }, record.seq);
          next_msg_id = Math.max(next_msg_id, record.msgId + 1);
          return;
        case RecordType.REMOVE:
          index.remove(record.queue, record.msgIds, record.seq);
          return;
        case RecordType.DELIVERED:
          index.markDelivered(record.queue, record.msgIds);
          return;
        case RecordType.DROP_QUEUE:
          // Every message of the queue journaled before the drop has a msgId below the counter.
          index.dropQueue(record.queue, Math.max(next_msg_id - 1, last_enqueued), record.seq);
          return;
      }
    };
    const is_last = i === nums.length - 1;
    const scan = scanSegment(bytes, { file: segment.path, segment_num: segment.num, is_last, skip_damaged, expected_seq }, codec, apply);
    segment.size_bytes = bytes.length;
    if (scan.skips.size > 0) segment.skips = scan.skips;
    if (scan.torn_at !== undefined) {
      console.error(`[warn] journal: truncated torn tail of ${segment.path} at ${scan.torn_at}`);
      truncateDurably(segment.path, scan.torn_at);
      segment.size_bytes = scan.torn_at;
      truncatedAt = { file: segment.path, offset: scan.torn_at };
    }
    if (scan.last_seq !== undefined) {
      segment.last_seq = scan.last_seq;
      last_seq = scan.last_seq;
      expected_seq = scan.last_seq + 1;
    }
    if (scan.skipped) expected_seq = undefined;
    segments.push(segment);
  }

  const messages = handOut(segments, index, codec, sink);
  const result = { segments, newest_segment_num: nums.at(-1) ?? 0, last_seq, next_msg_id, messages, fromSnapshot: false };
  return truncatedAt === undefined ? result : { ...result, truncatedAt };
}

function truncateDurably(file: string, size_bytes: number): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.ftruncateSync(fd, size_bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Hands every queue's reader to the sink; returns the messages they hold. */
function handOut(segments: readonly Segment[], index: MessageIndex, codec: QueueNameCodec, sink: ReplaySink): number {
  let messages = 0;
  for (const queue of recoveredQueues(segments, index, codec)) {
    messages += queue.count;
    sink.queue(queue.queue, queue);
  }
  return messages;
}

/** A reader per queue with live holds: its segments in order, its rewritten messages, its counts. */
function recoveredQueues(segments: readonly Segment[], index: MessageIndex, codec: QueueNameCodec): RecoveredMessages[] {
  const byQueue = new Map<string, { segments: Segment[]; count: number; bytes: number }>();
  for (const segment of segments) {
    for (const [queue, holds] of segment.holds) {
      let q = byQueue.get(queue);
      if (q === undefined) byQueue.set(queue, (q = { segments: [], count: 0, bytes: 0 }));
      q.segments.push(segment);
      q.count += holds;
      q.bytes += (segment.liveBytesEstimate() * holds) / segment.live_count;
    }
  }
  const moved = index.movedByQueue();
  return [...byQueue].map(([queue, q]) => new RecoveredMessages(queue, q.segments, moved.get(queue) ?? [], q.count, q.bytes, index, codec));
}

/** The whole file, read into `buffer` (replaced by a larger one through `grow` when too small). */
function readInto(file: string, grow: (buffer: Uint8Array) => void, buffer: Uint8Array): Uint8Array {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (size > buffer.length) {
      buffer = new Uint8Array(size);
      grow(buffer);
    }
    const done = preadFully(fd, buffer, 0, size);
    if (done < size) throw new Error(`ends at ${done} of ${size} bytes`);
    return buffer.subarray(0, size);
  } finally {
    fs.closeSync(fd);
  }
}
