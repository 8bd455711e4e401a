import { readWholeFile } from "./file_io.ts";
import { JournalCorruptError } from "./journal_corrupt_error.ts";
import type { MessageIndex } from "./message_index.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import { decodeRecord } from "./record_decoder.ts";
import { HEADER_BYTES, RecordType } from "./record_format.ts";
import type { Segment } from "./segment.ts";

export interface CompactionHost {
  readonly index: MessageIndex;
  readonly codec: QueueNameCodec;
  /** Appends a REWRITE of the message with its live queues and delivered flags; the index moves it there. */
  rewrite(msgId: number, queues: readonly string[], delivered: readonly boolean[], payload: Uint8Array): void;
  /** False once the journal is closing or failed: stop early and leave the rest in place. */
  running(): boolean;
}

/** Rewrites are done in slices of this size, yielding between them so the shard keeps serving. */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * Copies every live message of `segment` to the journal's tail (same msgId, its live queues
 * and delivered state) so the segment holds nothing live and can be deleted once the copies
 * are durable. A crash in between leaves both copies; replay lets the later REWRITE win.
 * The file is read off-thread; each source record's CRC is checked (decodeRecord) so damage
 * on disk is reported instead of being laundered into a fresh, valid record.
 */
export async function compactSegment(segment: Segment, host: CompactionHost): Promise<void> {
  const bytes = await readWholeFile(segment.path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let slice_bytes = 0;
  for (let at = 0; at < segment.size_bytes; ) {
    const resume = segment.skips?.get(at);
    if (resume !== undefined) {
      at = resume; // damage replay skipped (skipDamaged): nothing live in it
      continue;
    }
    const record_bytes = at + HEADER_BYTES <= bytes.length ? view.getUint32(at, true) : 0;
    if (record_bytes < HEADER_BYTES || at + record_bytes > bytes.length) {
      throw new JournalCorruptError(segment.path, at, "record runs past the end of the file during compaction");
    }
    const record = decodeRecord(view, bytes, at, at + record_bytes, host.codec);
    if (record === undefined) throw new JournalCorruptError(segment.path, at, "checksum mismatch during compaction");
    if (record.type === RecordType.ENQUEUE || record.type === RecordType.REWRITE) {
      if (!host.running()) return;
      // Checked when the record is reached: it may have been acked while earlier slices ran.
      const live = host.index.liveQueues(segment, at, record.msgId, record.queues, record.type === RecordType.REWRITE);
      if (live.queues.length > 0) {
        host.rewrite(record.msgId, live.queues, live.delivered, bytes.subarray(at + record.payload_offset, at + record.payload_offset + record.payload_bytes));
        slice_bytes += record_bytes;
        if (slice_bytes >= SLICE_BYTES) {
          slice_bytes = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    at += record_bytes;
  }
  if (segment.live_count !== 0) throw new Error(`journal: segment ${segment.num} still has ${segment.live_count} live holds after compaction`);
}
