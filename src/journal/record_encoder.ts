import type { BatchChunk } from "./batch_buffer.ts";
import type { QueueNameCodec } from "./queue_name_codec.ts";
import {
  CRC_START,
  FORMAT_VERSION,
  HEADER_BYTES,
  MESSAGE_FIXED_BYTES,
  MESSAGE_QUEUE_OVERHEAD_BYTES,
  PAYLOAD_LENGTH_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_START_BODY_BYTES,
  SEQ_OFFSET,
  TYPE_OFFSET,
  WRITE_START_FLAG,
  RecordType,
} from "./record_format.ts";

// Encoders write one whole record at `offset` of a chunk that already has room for it
// (see BatchBuffer.reserve), CRC included. The *_bytes functions give the size to reserve.

export function segmentStartRecordBytes(): number {
  return HEADER_BYTES + SEGMENT_START_BODY_BYTES;
}

export function encodeSegmentStart(chunk: BatchChunk, offset: number, seq: number, segment_num: number, next_msg_id: number): void {
  const view = chunk.view;
  const record_bytes = segmentStartRecordBytes();
  writeHeader(view, offset, record_bytes, seq, RecordType.SEGMENT_START);
  const at = offset + HEADER_BYTES;
  view.setUint32(at, SEGMENT_MAGIC, true);
  view.setUint16(at + 4, FORMAT_VERSION, true);
  view.setFloat64(at + 6, segment_num, true);
  view.setFloat64(at + 14, next_msg_id, true);
  seal(chunk, offset, record_bytes);
}

export function messageRecordBytes(codec: QueueNameCodec, queues: readonly string[], payload_bytes: number): number {
  let size = MESSAGE_FIXED_BYTES + payload_bytes;
  for (const queue of queues) size += MESSAGE_QUEUE_OVERHEAD_BYTES + codec.encode(queue).length;
  return size;
}

/**
 * ENQUEUE (delivered undefined: all false) or REWRITE. Returns the payload's offset from
 * the start of the record.
 */
export function encodeMessage(
  chunk: BatchChunk,
  offset: number,
  record_bytes: number,
  seq: number,
  type: typeof RecordType.ENQUEUE | typeof RecordType.REWRITE,
  codec: QueueNameCodec,
  msgId: number,
  queues: readonly string[],
  delivered: readonly boolean[] | undefined,
  payload: Uint8Array,
): number {
  const view = chunk.view;
  writeHeader(view, offset, record_bytes, seq, type);
  let at = offset + HEADER_BYTES;
  view.setFloat64(at, msgId, true);
  view.setUint16(at + 8, queues.length, true);
  at += 10;
  for (let i = 0; i < queues.length; i++) {
    at = writeName(chunk, at, codec.encode(queues[i]!));
    view.setUint8(at, delivered?.[i] === true ? 1 : 0);
    at += 1;
  }
  view.setUint32(at, payload.length, true);
  at += PAYLOAD_LENGTH_BYTES;
  chunk.bytes.set(payload, at);
  if (at + payload.length !== offset + record_bytes) throw new Error("journal: message record size mismatch");
  seal(chunk, offset, record_bytes);
  return at - offset;
}

export function idListRecordBytes(name: Uint8Array, count: number): number {
  return HEADER_BYTES + 2 + name.length + 4 + 8 * count;
}

/** REMOVE or DELIVERED for msgIds[from, to). */
export function encodeIdList(
  chunk: BatchChunk,
  offset: number,
  seq: number,
  type: typeof RecordType.REMOVE | typeof RecordType.DELIVERED,
  name: Uint8Array,
  msgIds: readonly number[],
  from: number,
  to: number,
): void {
  const view = chunk.view;
  const record_bytes = idListRecordBytes(name, to - from);
  writeHeader(view, offset, record_bytes, seq, type);
  let at = writeName(chunk, offset + HEADER_BYTES, name);
  view.setUint32(at, to - from, true);
  at += 4;
  for (let i = from; i < to; i++, at += 8) view.setFloat64(at, msgIds[i]!, true);
  seal(chunk, offset, record_bytes);
}

export function dropQueueRecordBytes(name: Uint8Array): number {
  return HEADER_BYTES + 2 + name.length;
}

export function encodeDropQueue(chunk: BatchChunk, offset: number, seq: number, name: Uint8Array): void {
  const record_bytes = dropQueueRecordBytes(name);
  writeHeader(chunk.view, offset, record_bytes, seq, RecordType.DROP_QUEUE);
  writeName(chunk, offset + HEADER_BYTES, name);
  seal(chunk, offset, record_bytes);
}

function writeHeader(view: DataView, offset: number, record_bytes: number, seq: number, type: RecordType): void {
  view.setUint32(offset, record_bytes, true);
  view.setFloat64(offset + SEQ_OFFSET, seq, true);
  view.setUint8(offset + TYPE_OFFSET, type);
}

function writeName(chunk: BatchChunk, at: number, name: Uint8Array): number {
  chunk.view.setUint16(at, name.length, true);
  chunk.bytes.set(name, at + 2);
  return at + 2 + name.length;
}

/** Flags the record if it begins a write (see record_format.ts), then sets its CRC. */
function seal(chunk: BatchChunk, offset: number, record_bytes: number): void {
  if (offset === chunk.write_start) chunk.view.setUint8(offset + TYPE_OFFSET, chunk.view.getUint8(offset + TYPE_OFFSET) | WRITE_START_FLAG);
  const crc = Bun.hash.crc32(chunk.bytes.subarray(offset + CRC_START, offset + record_bytes));
  chunk.view.setUint32(offset + 4, crc, true);
}
