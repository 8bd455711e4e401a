// The index as a clean shutdown leaves it, so the next start-up need not scan every segment: a
// hundred million queued messages are ~15 GB of records to read and check, but their index is a
// few bits each. Written once the journal is durable and idle (Journal.checkpoint), read at
// replay and deleted there, before anything is appended.
//
// Crash semantics: the snapshot only ever describes segment files exactly as they are: replay
// uses it only when the segment files on disk are the ones it lists, each with the size it
// recorded (any append after it changes a size or adds a file), and its checksum matches; else
// it is ignored and the segments are scanned as after a crash. A crash while writing it leaves a
// temporary file that is ignored.
//
// Layout: u32 JSON length, JSON (everything but the bitmaps), the bitmaps in the JSON's order,
// u32 crc32 of all that.
import * as fs from "node:fs";
import * as path from "node:path";
import type { IndexState } from "./message_index.ts";
import { segmentFileName, type SegmentState } from "./segment.ts";

const SNAPSHOT_FILE = "index.snapshot";
const FORMAT_VERSION = 1;

export interface JournalSnapshot {
  last_seq: number;
  next_msg_id: number;
  newest_segment_num: number;
  segments: SegmentState[];
  index: IndexState;
}

type StoredSegment = Omit<SegmentState, "gone" | "delivered"> & { gone_bytes: number; delivered_bytes: number };

export function writeSnapshot(dir: string, snapshot: JournalSnapshot): void {
  const { segments, ...rest } = snapshot;
  const stored: StoredSegment[] = segments.map(({ gone, delivered, ...s }) => ({ ...s, gone_bytes: gone.length, delivered_bytes: delivered.length }));
  const json = new TextEncoder().encode(JSON.stringify({ version: FORMAT_VERSION, ...rest, segments: stored }));
  const parts: Uint8Array[] = [u32(json.length), json];
  for (const s of segments) parts.push(s.gone, s.delivered);
  const body = Buffer.concat(parts);
  const file = path.join(dir, SNAPSHOT_FILE);
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, "w");
  try {
    fs.writeSync(fd, body);
    fs.writeSync(fd, u32(Bun.hash.crc32(body)));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  syncDirectory(dir);
}

/**
 * The snapshot, if there is one that matches the segment files on disk; the file (and any
 * leftover temporary) is deleted either way, durably, before this returns.
 */
export function takeSnapshot(dir: string, segmentNums: readonly number[]): JournalSnapshot | null {
  const file = path.join(dir, SNAPSHOT_FILE);
  let snapshot: JournalSnapshot | null = null;
  try {
    snapshot = matching(parse(fs.readFileSync(file)), dir, segmentNums);
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
  return { last_seq: parsed.last_seq, next_msg_id: parsed.next_msg_id, newest_segment_num: parsed.newest_segment_num, segments, index: parsed.index };
}

/** The snapshot if it lists exactly the segment files on disk, with their sizes. */
function matching(snapshot: JournalSnapshot | null, dir: string, segmentNums: readonly number[]): JournalSnapshot | null {
  if (snapshot === null || snapshot.segments.length !== segmentNums.length) return null;
  for (let i = 0; i < segmentNums.length; i++) {
    const s = snapshot.segments[i]!;
    if (s.num !== segmentNums[i]) return null;
    if (fs.statSync(path.join(dir, segmentFileName(s.num))).size !== s.size_bytes) return null;
  }
  if ((segmentNums.at(-1) ?? 0) !== snapshot.newest_segment_num) return null;
  return snapshot;
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
