import { readWholeFile } from "./file_io.ts";
import { JournalCorruptError } from "./journal_corrupt_error.ts";
import type { MessageEntry, MessageIndex } from "./message_index.ts";
import { CRC_START, HEADER_BYTES, RecordType, TYPE_OFFSET, recordTypeOf } from "./record_format.ts";
import type { Segment } from "./segment.ts";

export interface CompactionHost {
  readonly index: MessageIndex;
  /** Appends a REWRITE of the entry's current state with this payload; the index moves it there. */
  rewrite(entry: MessageEntry, payload: Uint8Array): void;
  /** False once the journal is closing or failed: stop early and leave the rest in place. */
  running(): boolean;
}

/** Rewrites are done in slices of this size, yielding between them so the shard keeps serving. */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * Copies every live message of `segment` to the journal's tail (same msgId, current queue
 * and delivered state) so the segment holds nothing live and can be deleted once the copies
 * are durable. A crash in between leaves both copies; replay lets the later REWRITE win.
 * The file is read off-thread; each source record's CRC is checked so damage on disk is
 * reported instead of being laundered into a fresh, valid record.
 */
export async function compactSegment(segment: Segment, host: CompactionHost): Promise<void> {
  const bytes = await readWholeFile(segment.path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const live: MessageEntry[] = [];
  for (let at = 0; at < segment.size_bytes; ) {
    const record_bytes = at + HEADER_BYTES <= bytes.length ? view.getUint32(at, true) : 0;
    if (record_bytes < HEADER_BYTES || at + record_bytes > bytes.length) {
      throw new JournalCorruptError(segment.path, at, "record runs past the end of the file during compaction");
    }
    const type = recordTypeOf(view.getUint8(at + TYPE_OFFSET));
    if (type === RecordType.ENQUEUE || type === RecordType.REWRITE) {
      const entry = host.index.get(view.getFloat64(at + HEADER_BYTES, true));
      if (entry?.segment === segment && entry.record_offset === at) {
        if (Bun.hash.crc32(bytes.subarray(at + CRC_START, at + record_bytes)) !== view.getUint32(at + 4, true)) {
          throw new JournalCorruptError(segment.path, at, "checksum mismatch during compaction");
        }
        live.push(entry);
      }
    }
    at += record_bytes;
  }
  let slice_bytes = 0;
  for (const entry of live) {
    if (!host.running()) return;
    // It may have been acked while this ran.
    if (host.index.get(entry.msgId) !== entry) continue;
    host.rewrite(entry, bytes.subarray(entry.payload_offset, entry.payload_offset + entry.payload_bytes));
    slice_bytes += entry.record_bytes;
    if (slice_bytes >= SLICE_BYTES) {
      slice_bytes = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (segment.live_count !== 0) throw new Error(`journal: segment ${segment.num} still has ${segment.live_count} live messages after compaction`);
}
