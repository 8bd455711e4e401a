// On-disk layout of one journal record (all integers little-endian):
//
//    0  u32  record_bytes   size of the whole record, this header included
//    4  u32  crc32          Bun.hash.crc32 of bytes [8, record_bytes): seq, type and body
//    8  f64  seq            position in the journal's single sequence; consecutive across segments
//   16  u8   type           one of RecordType, | WRITE_START_FLAG on the first record of a write
//   17  ...  body
//
// Bodies:
//   SEGMENT_START  u32 magic, u16 version, f64 segment number, f64 next msgId at creation.
//                  First record of every segment: it lets replay check the file's name and
//                  the seq chain, and it keeps the msgId counter alive after every message
//                  record has been deleted with its segment.
//   ENQUEUE        f64 msgId, u16 queue count, per queue: u16 name bytes, name (UTF-8),
//   REWRITE        u8 delivered flag; then u32 payload bytes, payload.
//                  REWRITE is a live message copied forward out of an old segment, carrying
//                  its state at that moment; it replaces any earlier record of that msgId.
//   REMOVE         u16 name bytes, name, u32 id count, f64 msgId per id.
//   DELIVERED      same as REMOVE.
//   DROP_QUEUE     u16 name bytes, name.
//
// A torn write leaves a record whose length runs past the end of the file or whose CRC
// does not match. Only the last write to the newest segment can be torn (each write is
// fdatasync'ed before the next starts), but its pages may reach the disk in any order, so
// intact records can follow the tear. WRITE_START_FLAG marks where each write began:
// damage with no intact write start after it is a torn tail; otherwise it is corruption
// (see segment_scanner.ts).

export const HEADER_BYTES = 17;
export const CRC_START = 8;
export const SEQ_OFFSET = 8;
export const TYPE_OFFSET = 16;

export const RecordType = {
  SEGMENT_START: 1,
  ENQUEUE: 2,
  REWRITE: 3,
  REMOVE: 4,
  DELIVERED: 5,
  DROP_QUEUE: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Set in the type byte of the first record of each write: one segment's share of a batch. */
export const WRITE_START_FLAG = 0x80;

export function isRecordType(value: number): value is RecordType {
  return value >= RecordType.SEGMENT_START && value <= RecordType.DROP_QUEUE;
}

/** The record type in a type byte, without WRITE_START_FLAG. */
export function recordTypeOf(type_byte: number): number {
  return type_byte & ~WRITE_START_FLAG;
}

export const SEGMENT_MAGIC = 0x4c4e4a57; // "WJNL"
export const FORMAT_VERSION = 1;
export const SEGMENT_START_BODY_BYTES = 4 + 2 + 8 + 8;

/** "vhost\0name": two AMQP shortstrs and a separator fit in 511 bytes; leave headroom. */
export const QUEUE_NAME_MAX_BYTES = 1024;
/** RabbitMQ's hard ceiling for a message body is 512 MiB. */
export const PAYLOAD_MAX_BYTES = 512 * 1024 * 1024;
/** The queue count is stored in a u16. */
export const QUEUES_PER_MESSAGE_MAX = 0xffff;
/** Longer id lists are split over several records so one record stays small. */
export const IDS_PER_RECORD_MAX = 65_536;

/** Per-message-record bytes besides names and payload: msgId, queue count, payload length. */
export const MESSAGE_FIXED_BYTES = HEADER_BYTES + 8 + 2 + 4;
/** Per-queue bytes in a message record besides the name: name length and delivered flag. */
export const MESSAGE_QUEUE_OVERHEAD_BYTES = 2 + 1;
/** Offset of the payload length field from the end of the queue list. */
export const PAYLOAD_LENGTH_BYTES = 4;

export const RECORD_MAX_BYTES =
  MESSAGE_FIXED_BYTES +
  QUEUES_PER_MESSAGE_MAX * (MESSAGE_QUEUE_OVERHEAD_BYTES + QUEUE_NAME_MAX_BYTES) +
  PAYLOAD_MAX_BYTES;
