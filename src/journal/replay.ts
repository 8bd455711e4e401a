import * as fs from "node:fs";
import * as path from "node:path";
import { JournalCorruptError } from "./journal_corrupt_error.ts";
import { MessageEntry } from "./message_index.ts";
import type { MessageIndex } from "./message_index.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import type { DecodedRecord } from "./record_decoder.ts";
import { RecordType } from "./record_format.ts";
import { Segment, parseSegmentFileName, segmentFileName } from "./segment.ts";
import { scanSegment } from "./segment_scanner.ts";

export interface ReplaySink {
  /** Called in msgId order per queue (FIFO), once per queue still holding the message. */
  enqueue(queue: string, msgId: number, payload: Uint8Array, redelivered: boolean): void;
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
}

/**
 * Rebuilds the index from every segment in `dir`, oldest first, then hands the live
 * messages to the sink. Synchronous: it runs once at start-up, before the shard serves.
 * A torn tail of the newest segment is cut off here (and synced), so the next start-up,
 * where this segment is no longer the newest, does not mistake it for damage.
 */
export function replayDirectory(dir: string, index: MessageIndex, codec: QueueNameCodec, skip_damaged: boolean, sink: ReplaySink): ReplayedJournal {
  const nums = fs
    .readdirSync(dir)
    .map(parseSegmentFileName)
    .filter((num): num is number => num !== undefined)
    .sort((a, b) => a - b);
  const segments: Segment[] = [];
  let expected_seq: number | undefined;
  let last_seq = 0;
  let next_msg_id = 1;
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
      bytes = fs.readFileSync(segment.path);
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
        case RecordType.REWRITE: {
          const payload_at = offset + record.payload_offset;
          const entry = new MessageEntry(
            record.msgId,
            record.seq,
            segment,
            offset,
            record.record_bytes,
            payload_at,
            record.payload_bytes,
            record.queues,
            record.delivered,
          );
          // An independent copy, so acking frees it; views into `bytes` would pin the whole
          // 64 MiB segment buffer for as long as any one of its messages lives.
          entry.replay_payload = new Uint8Array(record.payload_bytes);
          entry.replay_payload.set(bytes.subarray(payload_at, payload_at + record.payload_bytes));
          if (record.type === RecordType.REWRITE) index.replace(entry);
          else if (index.get(record.msgId) === undefined) index.add(entry);
          else if (!skip_damaged) throw new JournalCorruptError(segment.path, offset, `message ${record.msgId} enqueued twice`);
          else console.error(`[warn] journal: skipped duplicate enqueue of message ${record.msgId} in ${segment.path} at ${offset}`);
          next_msg_id = Math.max(next_msg_id, record.msgId + 1);
          return;
        }
        case RecordType.REMOVE:
          index.remove(record.queue, record.msgIds, record.seq);
          return;
        case RecordType.DELIVERED:
          index.markDelivered(record.queue, record.msgIds);
          return;
        case RecordType.DROP_QUEUE:
          index.dropQueue(record.queue, record.seq);
          return;
      }
    };
    const is_last = i === nums.length - 1;
    const scan = scanSegment(bytes, { file: segment.path, segment_num: segment.num, is_last, skip_damaged, expected_seq }, codec, apply);
    segment.size_bytes = bytes.length;
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

  let messages = 0;
  for (const entry of index.liveInMsgIdOrder()) {
    const payload = entry.replay_payload;
    if (payload === undefined) throw new Error(`journal: live message ${entry.msgId} has no replayed payload`);
    entry.replay_payload = undefined;
    for (let q = 0; q < entry.queues.length; q++) sink.enqueue(entry.queues[q]!, entry.msgId, payload, entry.delivered[q]!);
    messages++;
  }
  const result = { segments, newest_segment_num: nums.at(-1) ?? 0, last_seq, next_msg_id, messages };
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
