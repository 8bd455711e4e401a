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
  /** The highest msgId an ENQUEUE record carries (or the snapshot recorded). */
  readonly last_enqueued_id: number;
  readonly messages: number;
  readonly truncatedAt?: { file: string; offset: number };
  /** The index came from a snapshot: only the records after it were scanned. */
  readonly fromSnapshot: boolean;
  /** Records scanned (all of them without a snapshot, those after it with one). */
  readonly records_scanned: number;
}

/**
 * Rebuilds the index: from the newest snapshot when it covers the files, plus the records
 * appended after it; else from every segment in `dir`, oldest first. Then hands each queue's
 * live messages to the sink as a reader (nothing of them is kept in memory). Synchronous: it
 * runs once at start-up, before the shard serves. A torn tail of the newest segment is cut off
 * here (and synced), so the next start-up, where this segment is no longer the newest, does not
 * mistake it for damage.
 */
export function replayDirectory(dir: string, index: MessageIndex, codec: QueueNameCodec, skip_damaged: boolean, sink: ReplaySink): ReplayedJournal {
  const nums = fs
    .readdirSync(dir)
    .map(parseSegmentFileName)
    .filter((num): num is number => num !== undefined)
    .sort((a, b) => a - b);
  const covering = takeSnapshot(dir, nums);
  let segments: Segment[] = [];
  let expected_seq: number | undefined;
  let last_seq = 0;
  let next_msg_id = 1;
  let last_enqueued = 0;
  let records_scanned = 0;
  let shared: Uint8Array = new Uint8Array(0);
  let truncatedAt: { file: string; offset: number } | undefined;
  /** Segments to scan: [segment, where its unscanned records start]. */
  let toScan: [Segment, number][];
  /** The segment before the first to scan, when it must be numbered right before it. */
  let before: number | undefined;
  if (covering === null) {
    toScan = nums.map((num) => [new Segment(num, dir), 0]);
  } else {
    const { snapshot, newer } = covering;
    segments = snapshot.segments.map((state) => Segment.restore(state, dir));
    index.restore(snapshot.index, segments);
    last_seq = snapshot.last_seq;
    expected_seq = last_seq + 1;
    next_msg_id = snapshot.next_msg_id;
    last_enqueued = snapshot.last_enqueued_id;
    const newest = segments.at(-1);
    toScan = newer.map((num) => [new Segment(num, dir), 0]);
    if (newest !== undefined && covering.deleted < segments.length) {
      segments.pop();
      toScan.unshift([newest, newest.size_bytes]);
      before = segments.at(-1)?.num;
    }
    // Else every segment it lists was deleted since, and maybe newer ones too: nothing to check
    // the first file's number against, as in a scan from scratch.
  }

  const damaged = (file: string, reason: string): void => {
    if (!skip_damaged) throw new JournalCorruptError(file, 0, reason);
    console.error(`[warn] journal: skipped ${reason}: ${file}`);
    expected_seq = undefined;
  };

  for (let i = 0; i < toScan.length; i++) {
    const [segment, from] = toScan[i]!;
    const previous = i > 0 ? toScan[i - 1]![0].num : before;
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
    const is_last = i === toScan.length - 1;
    const scan = scanSegment(bytes, { file: segment.path, segment_num: segment.num, is_last, skip_damaged, expected_seq, from }, codec, apply);
    records_scanned += scan.records;
    segment.size_bytes = bytes.length;
    if (scan.skips.size > 0) segment.skips = new Map([...(segment.skips ?? []), ...scan.skips]);
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

  if (covering !== null) {
    // Deleted after the snapshot, oldest first, once dead: the records since must have made them so.
    for (let i = 0; i < covering.deleted; i++) {
      const gone = segments.shift()!;
      if (gone.live_count !== 0) {
        throw new JournalCorruptError(gone.path, 0, `segment ${gone.num} is missing but still held ${gone.live_count} live messages at the last record`);
      }
      index.segmentDeleted(gone);
    }
  }
  const messages = handOut(segments, index, codec, sink);
  const newest_segment_num = Math.max(nums.at(-1) ?? 0, covering?.snapshot.newest_segment_num ?? 0);
  const result = { segments, newest_segment_num, last_seq, next_msg_id, last_enqueued_id: last_enqueued, messages, fromSnapshot: covering !== null, records_scanned };
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
