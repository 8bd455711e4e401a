// The index as of one record, so a start-up need not scan every segment: a hundred million
// queued messages are ~15 GB of records to read and check, but their index is a few bits each.
// Written at a clean shutdown (Journal.checkpoint) and, while the broker runs, every so many
// records (Journal's periodic snapshot), so that after a crash only the records appended since
// the last one are scanned. Read at replay and deleted there, before anything is appended.
//
// Crash semantics: a snapshot describes the journal up to its last_seq, and it is written only
// once every record up to that seq is durable, so the bytes it covers are on disk whatever
// happened after. Replay uses it when the files still hold those bytes: each listed segment still
// on disk is at least as long as recorded (only the newest may have grown), the listed ones that
// are gone are the oldest (segments are deleted oldest first) and must be dead once the records
// after the snapshot are applied, and every file not listed is newer. Those newer records are
// scanned on top of it exactly as a full scan would apply them. Anything else, or a checksum
// mismatch, and it is ignored: the segments are scanned from scratch. A crash while writing it
// leaves a temporary file that is ignored.
//
// Layout: u32 JSON length, JSON (everything but the bitmaps), the bitmaps in the JSON's order,
// u32 crc32 of all that.
import * as fs from "node:fs";
import * as path from "node:path";
import type { IndexState } from "./message_index.ts";
import { segmentFileName, type SegmentState } from "./segment.ts";

const SNAPSHOT_FILE = "index.snapshot";
const FORMAT_VERSION = 2;

export interface JournalSnapshot {
  last_seq: number;
  next_msg_id: number;
  last_enqueued_id: number;
  newest_segment_num: number;
  segments: SegmentState[];
  index: IndexState;
}

type StoredSegment = Omit<SegmentState, "gone" | "delivered"> & { gone_bytes: number; delivered_bytes: number };

/**
 * The snapshot's bytes: everything is copied, so the journal may go on changing its index while
 * the file is written.
 */
export function encodeSnapshot(snapshot: JournalSnapshot): Uint8Array {
  const { segments, ...rest } = snapshot;
  const stored: StoredSegment[] = segments.map(({ gone, delivered, ...s }) => ({ ...s, gone_bytes: gone.length, delivered_bytes: delivered.length }));
  const json = new TextEncoder().encode(JSON.stringify({ version: FORMAT_VERSION, ...rest, segments: stored }));
  const parts: Uint8Array[] = [u32(json.length), json];
  for (const s of segments) parts.push(s.gone, s.delivered);
  const body = Buffer.concat(parts);
  return Buffer.concat([body, u32(Bun.hash.crc32(body))]);
}

/** Writes the snapshot durably (temporary file, fsync, rename, directory fsync) off the JS thread. */
export async function writeSnapshot(dir: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(dir, SNAPSHOT_FILE);
  const temporary = `${file}.tmp`;
  const handle = await fs.promises.open(temporary, "w");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temporary, file);
  const dirHandle = await fs.promises.open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** A snapshot that covers the files on disk, and how they moved on since it was written. */
export interface CoveringSnapshot {
  snapshot: JournalSnapshot;
  /** How many of its segments (the oldest) were deleted since. */
  deleted: number;
  /** Files on disk newer than any it lists, oldest first. */
  newer: number[];
}

/**
 * The snapshot, if there is one that covers the segment files on disk; the file (and any
 * leftover temporary) is deleted either way, durably, before this returns.
 */
export function takeSnapshot(dir: string, segmentNums: readonly number[]): CoveringSnapshot | null {
  const file = path.join(dir, SNAPSHOT_FILE);
  let snapshot: CoveringSnapshot | null = null;
  try {
    snapshot = covering(parse(fs.readFileSync(file)), dir, segmentNums);
  } catch {
    snapshot = null; // absent or unreadable: the segments are scanned
  }
  let removed = false;
  for (const f of [file, `${file}.tmp`]) {
    if (!fs.existsSync(f)) continue;
    fs.rmSync(f);
    removed = true;
  }
  if (removed) syncDirectory(dir);
  return snapshot;
}

function parse(bytes: Uint8Array): JournalSnapshot | null {
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.subarray(0, bytes.length - 4);
  if (Bun.hash.crc32(body) !== view.getUint32(bytes.length - 4, true)) return null;
  const jsonLength = view.getUint32(0, true);
  const parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + jsonLength))) as Omit<JournalSnapshot, "segments"> & { version: number; segments: StoredSegment[] };
  if (parsed.version !== FORMAT_VERSION) return null;
  let at = 4 + jsonLength;
  const take = (n: number): Uint8Array => {
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const segments: SegmentState[] = parsed.segments.map(({ gone_bytes, delivered_bytes, ...s }) => ({ ...s, gone: take(gone_bytes), delivered: take(delivered_bytes) }));
  if (at !== body.length) return null;
  return { last_seq: parsed.last_seq, next_msg_id: parsed.next_msg_id, last_enqueued_id: parsed.last_enqueued_id, newest_segment_num: parsed.newest_segment_num, segments, index: parsed.index };
}

/** The snapshot with what changed on disk since, if the files still hold what it covers. */
function covering(snapshot: JournalSnapshot | null, dir: string, segmentNums: readonly number[]): CoveringSnapshot | null {
  if (snapshot === null) return null;
  const listed = snapshot.segments;
  const onDisk = new Set(segmentNums);
  let deleted = 0;
  while (deleted < listed.length && !onDisk.has(listed[deleted]!.num)) deleted++;
  for (let i = deleted; i < listed.length; i++) {
    const s = listed[i]!;
    if (!onDisk.has(s.num)) return null; // a hole after the deleted prefix
    const size = fs.statSync(path.join(dir, segmentFileName(s.num))).size;
    // Only the segment that was active may have grown; none may have shrunk.
    if (size < s.size_bytes || (size !== s.size_bytes && i !== listed.length - 1)) return null;
  }
  const listedNums = new Set(listed.map((s) => s.num));
  const newer = segmentNums.filter((num) => !listedNums.has(num));
  if (newer.some((num) => num <= snapshot.newest_segment_num)) return null;
  return { snapshot, deleted, newer };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
