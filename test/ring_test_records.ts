/**
 * Deterministic test records shared by the ring tests and their worker:
 * [u32 sequence][u32 checksum of bytes 8..][pattern bytes depending on sequence and index]
 * A lost, duplicated, reordered, shifted or torn record changes the sequence,
 * the checksum or a pattern byte.
 */
export const RECORD_MIN_BYTES = 8;
/** Most records are small; every 64th is large so laps and padding vary. */
const SMALL_SPREAD_BYTES = 120;

export interface EchoJob {
  readonly request: SharedArrayBuffer;
  readonly response: SharedArrayBuffer;
  readonly records: number;
  /** The request writer's maxRecordBytes; records are generated with it. */
  readonly max_record_bytes: number;
  /** Worker sleeps sleep_ms after every sleep_every records read (0 = never). */
  readonly sleep_every: number;
  readonly sleep_ms: number;
  /** "echo": validate and copy back; "count": check the sequence number only, reply with postMessage. */
  readonly mode: "echo" | "count";
}

export interface EchoResult {
  readonly error: string | null;
  readonly records: number;
  readonly data_waits: number;
  readonly space_waits: number;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

export function recordLength(sequence: number, max_bytes: number): number {
  const h = mix(sequence);
  if ((h & 63) === 0) return RECORD_MIN_BYTES + (h >>> 6) % (max_bytes - RECORD_MIN_BYTES + 1);
  return RECORD_MIN_BYTES + (h >>> 6) % SMALL_SPREAD_BYTES;
}

function patternByte(sequence: number, index: number): number {
  return (sequence * 31 + index * 131 + (index >>> 8)) & 0xff;
}

function checksum(u8: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (u8[i] ?? 0), 0x01000193);
  return h >>> 0;
}

export function writeRecord(u8: Uint8Array, view: DataView, offset: number, sequence: number, length: number): void {
  for (let i = RECORD_MIN_BYTES; i < length; i++) u8[offset + i] = patternByte(sequence, i);
  view.setUint32(offset, sequence, true);
  view.setUint32(offset + 4, checksum(u8, offset + RECORD_MIN_BYTES, offset + length), true);
}

/** null when the record is exactly what writeRecord(sequence) produced, else what is wrong. */
export function checkRecord(
  u8: Uint8Array,
  view: DataView,
  offset: number,
  length: number,
  sequence: number,
  max_bytes: number,
): string | null {
  if (length !== recordLength(sequence, max_bytes)) return `record ${sequence}: length ${length}`;
  const got_sequence = view.getUint32(offset, true);
  if (got_sequence !== sequence) return `expected record ${sequence}, got ${got_sequence}`;
  if (view.getUint32(offset + 4, true) !== checksum(u8, offset + RECORD_MIN_BYTES, offset + length)) {
    return `record ${sequence}: bad checksum`;
  }
  for (let i = RECORD_MIN_BYTES; i < length; i++) {
    if (u8[offset + i] !== patternByte(sequence, i)) return `record ${sequence}: byte ${i} differs`;
  }
  return null;
}
