import type { QueueNameCodec } from "./queue_name_codec.ts";
import {
  CRC_START,
  FORMAT_VERSION,
  HEADER_BYTES,
  IDS_PER_RECORD_MAX,
  PAYLOAD_MAX_BYTES,
  QUEUE_NAME_MAX_BYTES,
  RECORD_MAX_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_START_BODY_BYTES,
  SEQ_OFFSET,
  TYPE_OFFSET,
  RecordType,
  isRecordType,
  recordTypeOf,
} from "./record_format.ts";

export interface SegmentStartRecord {
  readonly type: typeof RecordType.SEGMENT_START;
  readonly seq: number;
  readonly record_bytes: number;
  readonly segment_num: number;
  readonly next_msg_id: number;
}

export interface MessageRecord {
  readonly type: typeof RecordType.ENQUEUE | typeof RecordType.REWRITE;
  readonly seq: number;
  readonly record_bytes: number;
  readonly msgId: number;
  readonly queues: string[];
  readonly delivered: boolean[];
  /** Offset of the payload from the start of the record. */
  readonly payload_offset: number;
  readonly payload_bytes: number;
}

export interface IdListRecord {
  readonly type: typeof RecordType.REMOVE | typeof RecordType.DELIVERED;
  readonly seq: number;
  readonly record_bytes: number;
  readonly queue: string;
  readonly msgIds: number[];
}

export interface DropQueueRecord {
  readonly type: typeof RecordType.DROP_QUEUE;
  readonly seq: number;
  readonly record_bytes: number;
  readonly queue: string;
}

export type DecodedRecord = SegmentStartRecord | MessageRecord | IdListRecord | DropQueueRecord;

/** Thrown inside decoding when a body does not parse; callers see `undefined`. */
class Malformed extends Error {}

/**
 * Decodes the record at `offset`, looking no further than `end`. Returns undefined for
 * anything that is not a whole, intact, well-formed record: the caller decides whether
 * that is a torn tail or damage.
 */
export function decodeRecord(view: DataView, bytes: Uint8Array, offset: number, end: number, codec: QueueNameCodec): DecodedRecord | undefined {
  if (offset + HEADER_BYTES > end) return undefined;
  const record_bytes = view.getUint32(offset, true);
  if (record_bytes < HEADER_BYTES || record_bytes > RECORD_MAX_BYTES || offset + record_bytes > end) return undefined;
  const type = recordTypeOf(view.getUint8(offset + TYPE_OFFSET));
  if (!isRecordType(type)) return undefined;
  const crc = Bun.hash.crc32(bytes.subarray(offset + CRC_START, offset + record_bytes));
  if (crc !== view.getUint32(offset + 4, true)) return undefined;
  const seq = view.getFloat64(offset + SEQ_OFFSET, true);
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
  try {
    return decodeBody(new BodyReader(view, bytes, offset + HEADER_BYTES, offset + record_bytes, codec), type, seq, record_bytes, offset);
  } catch (err) {
    if (err instanceof Malformed || err instanceof TypeError) return undefined; // TypeError: invalid UTF-8
    throw err;
  }
}

function decodeBody(body: BodyReader, type: RecordType, seq: number, record_bytes: number, offset: number): DecodedRecord {
  switch (type) {
    case RecordType.SEGMENT_START: {
      if (body.remaining() !== SEGMENT_START_BODY_BYTES) throw new Malformed();
      if (body.u32() !== SEGMENT_MAGIC || body.u16() !== FORMAT_VERSION) throw new Malformed();
      const segment_num = body.id();
      const next_msg_id = body.id();
      return { type, seq, record_bytes, segment_num, next_msg_id };
    }
    case RecordType.ENQUEUE:
    case RecordType.REWRITE: {
      const msgId = body.id();
      const count = body.u16();
      if (count === 0) throw new Malformed();
      const queues: string[] = [];
      const delivered: boolean[] = [];
      for (let i = 0; i < count; i++) {
        queues.push(body.name());
        delivered.push(body.u8() !== 0);
      }
      const payload_bytes = body.u32();
      if (payload_bytes > PAYLOAD_MAX_BYTES || body.remaining() !== payload_bytes) throw new Malformed();
      const payload_offset = body.position() - offset;
      if (type === RecordType.ENQUEUE && delivered.includes(true)) throw new Malformed();
      return { type, seq, record_bytes, msgId, queues, delivered, payload_offset, payload_bytes };
    }
    case RecordType.REMOVE:
    case RecordType.DELIVERED: {
      const queue = body.name();
      const count = body.u32();
      if (count === 0 || count > IDS_PER_RECORD_MAX || body.remaining() !== count * 8) throw new Malformed();
      const msgIds: number[] = new Array<number>(count);
      for (let i = 0; i < count; i++) msgIds[i] = body.id();
      return { type, seq, record_bytes, queue, msgIds };
    }
    case RecordType.DROP_QUEUE: {
      const queue = body.name();
      if (body.remaining() !== 0) throw new Malformed();
      return { type, seq, record_bytes, queue };
    }
  }
}

/** Bounds-checked sequential reads over one record body. */
class BodyReader {
  constructor(
    private readonly view: DataView,
    private readonly bytes: Uint8Array,
    private at: number,
    private readonly end: number,
    private readonly codec: QueueNameCodec,
  ) {}

  position(): number {
    return this.at;
  }

  remaining(): number {
    return this.end - this.at;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.at, true);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  /** A msgId, segment number or counter: a positive safe integer stored as f64. */
  id(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    if (!Number.isSafeInteger(value) || value < 1) throw new Malformed();
    return value;
  }

  name(): string {
    const length = this.u16();
    if (length > QUEUE_NAME_MAX_BYTES) throw new Malformed();
    this.need(length);
    const name = this.codec.decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return name;
  }

  private need(n: number): void {
    if (this.at + n > this.end) throw new Malformed();
  }
}
