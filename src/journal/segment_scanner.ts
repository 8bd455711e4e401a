import { JournalCorruptError } from "./journal_corrupt_error.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import { decodeRecord } from "./record_decoder.ts";
import type { DecodedRecord } from "./record_decoder.ts";
import { HEADER_BYTES, RECORD_MAX_BYTES, RecordType, SEQ_OFFSET, TYPE_OFFSET, WRITE_START_FLAG, isRecordType, recordTypeOf } from "./record_format.ts";

export interface ScanOptions {
  readonly file: string;
  readonly segment_num: number;
  /** Only the newest segment may end in a torn write. */
  readonly is_last: boolean;
  readonly skip_damaged: boolean;
  /** Seq the first record must carry; undefined when not known (oldest segment, or after a skip). */
  readonly expected_seq: number | undefined;
  /** Where the scan starts: 0, or the end of the records an index snapshot already covers. */
  readonly from?: number;
}

export interface ScanResult {
  /** Seq of the last record delivered, or undefined if none was. */
  readonly last_seq: number | undefined;
  /** Offset of a torn tail in the last segment; the file must be truncated there. */
  readonly torn_at: number | undefined;
  /** Damage was skipped, so the seq chain into the next segment cannot be checked. */
  readonly skipped: boolean;
  /** Damaged byte ranges skipped (start offset → where the scan resumed): readers skip them too. */
  readonly skips: Map<number, number>;
  /** Intact records handed to onRecord. */
  readonly records: number;
}

/** How far past the last good seq a resynchronising scan accepts a record as genuine. */
const RESYNC_SEQ_WINDOW = 1 << 20;

/**
 * Walks the records of one segment file held in memory and hands each intact one to
 * onRecord, in order. Damage in the newest segment with no intact write start after it is
 * a torn last write: the scan stops and reports where to cut. Any other damage means bytes
 * changed in place: JournalCorruptError, unless skip_damaged, which logs and resumes at
 * the next intact record.
 */
export function scanSegment(
  bytes: Uint8Array,
  opts: ScanOptions,
  codec: QueueNameCodec,
  onRecord: (record: DecodedRecord, offset: number) => void,
): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let offset = opts.from ?? 0;
  let expected = opts.expected_seq;
  let last_seq: number | undefined;
  let skipped = false;
  let records = 0;
  const skips = new Map<number, number>();

  const damaged = (reason: string): void => {
    if (!opts.skip_damaged) throw new JournalCorruptError(opts.file, offset, reason);
    console.error(`[warn] journal: skipped ${reason} in ${opts.file} at ${offset}`);
    skipped = true;
  };

  while (offset < end) {
    const record = decodeRecord(view, bytes, offset, end, codec);
    if (record === undefined) {
      const min_seq = last_seq !== undefined ? last_seq + 1 : (expected ?? 1);
      const next = findNextRecord(view, bytes, offset + 1, end, min_seq, codec, false);
      const next_write = next === undefined ? undefined : findNextRecord(view, bytes, next, end, min_seq, codec, true);
      // Nothing written after the damage began a write of its own: it lies in the last write.
      if (opts.is_last && next_write === undefined) return { last_seq, torn_at: offset, skipped, skips, records };
      if (next === undefined) {
        damaged("damaged tail of a segment that is not the newest");
        skips.set(offset, end);
        return { last_seq, torn_at: undefined, skipped, skips, records };
      }
      damaged("damaged record");
      skips.set(offset, next);
      offset = next;
      expected = undefined;
      continue;
    }
    const is_start = record.type === RecordType.SEGMENT_START;
    if (offset === 0 && (!is_start || record.segment_num !== opts.segment_num)) {
      damaged(`segment does not begin with its own start record (segment ${opts.segment_num})`);
      offset += record.record_bytes;
      continue;
    }
    if (offset !== 0 && is_start) {
      damaged("segment start record in the middle of a segment");
      offset += record.record_bytes;
      continue;
    }
    if (expected !== undefined && record.seq !== expected) {
      // An intact record out of sequence: records between were lost. Skipping keeps it.
      damaged(`gap in the record sequence (seq ${record.seq}, expected ${expected})`);
    }
    onRecord(record, offset);
    records++;
    last_seq = record.seq;
    expected = record.seq + 1;
    offset += record.record_bytes;
  }
  return { last_seq, torn_at: undefined, skipped, skips, records };
}

/**
 * The offset of the next intact record at or after `from` whose seq is plausible (and
 * that begins a write, if write_start_only), or undefined. Cheap header checks filter
 * candidates before the CRC is computed; this runs only on damage.
 */
function findNextRecord(
  view: DataView,
  bytes: Uint8Array,
  from: number,
  end: number,
  min_seq: number,
  codec: QueueNameCodec,
  write_start_only: boolean,
): number | undefined {
  const max_seq = min_seq + RESYNC_SEQ_WINDOW;
  for (let at = from; at + HEADER_BYTES <= end; at++) {
    const type_byte = view.getUint8(at + TYPE_OFFSET);
    if (write_start_only && (type_byte & WRITE_START_FLAG) === 0) continue;
    if (!isRecordType(recordTypeOf(type_byte))) continue;
    const seq = view.getFloat64(at + SEQ_OFFSET, true);
    if (!(seq >= min_seq && seq <= max_seq)) continue;
    const record_bytes = view.getUint32(at, true);
    if (record_bytes < HEADER_BYTES || record_bytes > RECORD_MAX_BYTES || at + record_bytes > end) continue;
    if (decodeRecord(view, bytes, at, end, codec) !== undefined) return at;
  }
  return undefined;
}
