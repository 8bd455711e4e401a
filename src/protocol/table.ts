// AMQP field tables and arrays, with RabbitMQ's type octets (rabbit_binary_parser /
// rabbit_binary_generator, the RabbitMQ column of the 0-9-1 errata):
//   t bool, b int8, B uint8, s int16, u uint16, I int32, i uint32, l int64, f float32,
//   d float64, D decimal, S longstr, A array, T timestamp, F table, V void, x bytes.
// 'L' is decoded as a signed 64-bit integer too, as RabbitMQ does; it is never written.
// 64-bit values keep every bit: 'l' beyond 2^53 decodes as a bigint, 'T' as a Timestamp of bigint
// seconds (a Date would round to milliseconds and stop at year 275760).

import { AmqpError, ReplyCode } from "./errors.ts";
import { ByteWriter } from "./byte_writer.ts";
import { Reader } from "./reader.ts";

/** An AMQP decimal: value / 10^scale. RabbitMQ reads the value as an unsigned 32-bit integer. */
export class Decimal {
  constructor(
    readonly scale: number,
    readonly value: number,
  ) {}
}

/** An AMQP timestamp ('T'): seconds since the epoch, any unsigned 64-bit value. */
export class Timestamp {
  constructor(readonly seconds: bigint) {}
}

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Timestamp
  | Decimal
  | null
  | FieldValue[]
  | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** Deepest nesting of tables and arrays accepted or written. */
export const TABLE_MAX_DEPTH = 32;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2 ** 32 - 1;

const tableReader = new Reader();

/**
 * Decodes the entries of a table: `length` bytes at `offset` (no length prefix).
 * Malformed input throws AmqpError 501 FRAME_ERROR.
 */
export function decodeTable(buf: Uint8Array, offset: number, length: number): FieldTable {
  tableReader.reset(buf, offset, length, "field table");
  return readTableEntries(tableReader, tableReader.end, 0);
}

/** Reads a length-prefixed table at the cursor. */
export function readTable(r: Reader, depth = 0): FieldTable {
  const size_bytes = r.u32();
  r.need(size_bytes, "table");
  return readTableEntries(r, r.pos + size_bytes, depth);
}

function readTableEntries(r: Reader, end: number, depth: number): FieldTable {
  if (depth >= TABLE_MAX_DEPTH) r.fail(`tables nested deeper than ${TABLE_MAX_DEPTH}`);
  const outerEnd = r.end;
  r.end = end; // entries may not read past their own table
  const table: FieldTable = {};
  while (r.pos < end) {
    const key = r.shortStrLossy();
    const value = readValue(r, depth);
    if (key === "__proto__") {
      // A plain assignment would replace the object's prototype.
      Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      table[key] = value;
    }
  }
  r.end = outerEnd;
  return table;
}

function readArray(r: Reader, depth: number): FieldValue[] {
  const size_bytes = r.u32();
  r.need(size_bytes, "array");
  if (depth + 1 >= TABLE_MAX_DEPTH) r.fail(`arrays nested deeper than ${TABLE_MAX_DEPTH}`);
  const outerEnd = r.end;
  const end = r.pos + size_bytes;
  r.end = end;
  const values: FieldValue[] = [];
  while (r.pos < end) values.push(readValue(r, depth + 1));
  r.end = outerEnd;
  return values;
}

function readValue(r: Reader, depth: number): FieldValue {
  const type = r.u8();
  switch (type) {
    case 0x53 /* S */:
      return r.longStr();
    case 0x49 /* I */:
      return r.i32();
    case 0x74 /* t */:
      return r.u8() !== 0;
    case 0x46 /* F */:
      return readTable(r, depth + 1);
    case 0x6c /* l */:
    case 0x4c /* L */:
      return r.i64();
    case 0x62 /* b */:
      return r.i8();
    case 0x42 /* B */:
      return r.u8();
    case 0x73 /* s */:
      return r.i16();
    case 0x75 /* u */:
      return r.u16();
    case 0x69 /* i */:
      return r.u32();
    case 0x66 /* f */:
      return r.f32();
    case 0x64 /* d */:
      return r.f64();
    case 0x44 /* D */: {
      const scale = r.u8();
      return new Decimal(scale, r.u32());
    }
    case 0x54 /* T */:
      return new Timestamp(r.u64Big());
    case 0x41 /* A */:
      return readArray(r, depth);
    case 0x56 /* V */:
      return null;
    case 0x78 /* x */: {
      const size_bytes = r.u32();
      r.need(size_bytes, "byte array");
      return r.copy(size_bytes);
    }
    default:
      return r.fail(`unknown field type ${describeOctet(type)} at offset ${r.pos - 1}`);
  }
}

function describeOctet(octet: number): string {
  return octet >= 0x21 && octet <= 0x7e ? `'${String.fromCharCode(octet)}'` : `0x${octet.toString(16).padStart(2, "0")}`;
}

/** Encodes the entries of a table (no length prefix): the inverse of decodeTable. */
export function encodeTable(table: FieldTable): Uint8Array {
  const w = new ByteWriter(256);
  writeTableEntries(w, table, 0);
  return w.u8.slice(0, w.length);
}

/** Writes a length-prefixed table. */
export function writeTable(w: ByteWriter, table: FieldTable, depth = 0): void {
  w.ensure(4);
  const start = w.length;
  w.length = start + 4;
  writeTableEntries(w, table, depth);
  w.view.setUint32(start, w.length - start - 4);
}

function writeTableEntries(w: ByteWriter, table: FieldTable, depth: number): void {
  if (depth >= TABLE_MAX_DEPTH) throw encodeError(`tables nested deeper than ${TABLE_MAX_DEPTH}`);
  for (const key in table) {
    if (!Object.hasOwn(table, key)) continue;
    w.writeShortStr(key);
    writeValue(w, table[key], depth);
  }
}

function writeArray(w: ByteWriter, values: readonly FieldValue[], depth: number): void {
  if (depth + 1 >= TABLE_MAX_DEPTH) throw encodeError(`arrays nested deeper than ${TABLE_MAX_DEPTH}`);
  w.ensure(4);
  const start = w.length;
  w.length = start + 4;
  for (const value of values) writeValue(w, value, depth + 1);
  w.view.setUint32(start, w.length - start - 4);
}

/** Writes the type octet and value, choosing the type from the JS value. */
function writeValue(w: ByteWriter, value: FieldValue | undefined, depth: number): void {
  switch (typeof value) {
    case "string":
      w.writeU8(0x53 /* S */);
      w.writeLongStr(value);
      return;
    case "boolean":
      w.ensure(2);
      w.putU8(0x74 /* t */);
      w.putU8(value ? 1 : 0);
      return;
    case "number":
      writeNumber(w, value);
      return;
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX) throw encodeError(`bigint ${value} outside int64`);
      w.ensure(9);
      w.putU8(0x6c /* l */);
      w.view.setBigInt64(w.length, value);
      w.length += 8;
      return;
    case "undefined":
      w.writeU8(0x56 /* V */);
      return;
    case "object":
      writeObject(w, value, depth);
      return;
    default:
      throw encodeError(`cannot encode a ${typeof value} as a field value`);
  }
}

function writeNumber(w: ByteWriter, value: number): void {
  w.ensure(9);
  if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) {
    w.putU8(0x49 /* I */);
    w.view.setInt32(w.length, value);
    w.length += 4;
  } else if (Number.isSafeInteger(value)) {
    w.putU8(0x6c /* l */);
    w.view.setBigInt64(w.length, BigInt(value));
    w.length += 8;
  } else {
    w.putU8(0x64 /* d */);
    w.view.setFloat64(w.length, value);
    w.length += 8;
  }
}

function writeObject(w: ByteWriter, value: Exclude<FieldValue, boolean | number | bigint | string>, depth: number): void {
  if (value === null) {
    w.writeU8(0x56 /* V */);
  } else if (Array.isArray(value)) {
    w.writeU8(0x41 /* A */);
    writeArray(w, value, depth);
  } else if (value instanceof Uint8Array) {
    w.writeU8(0x78 /* x */);
    w.writeLongBytes(value);
  } else if (value instanceof Timestamp) {
    w.writeU8(0x54 /* T */);
    w.writeU64Big(value.seconds);
  } else if (value instanceof Decimal) {
    const { scale, value: digits } = value;
    if (!Number.isInteger(scale) || scale < 0 || scale > 255 || !Number.isInteger(digits) || digits < 0 || digits > UINT32_MAX) {
      throw encodeError(`decimal scale ${scale} / value ${digits} outside octet / uint32`);
    }
    w.ensure(6);
    w.putU8(0x44 /* D */);
    w.putU8(scale);
    w.putU32(digits);
  } else {
    w.writeU8(0x46 /* F */);
    writeTable(w, value as FieldTable, depth + 1);
  }
}

function encodeError(detail: string): AmqpError {
  return new AmqpError(ReplyCode.internalError, `cannot encode field table: ${detail}`);
}
