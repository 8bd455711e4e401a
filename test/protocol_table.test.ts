import { describe, expect, test } from "bun:test";
import { AmqpError, ReplyCode } from "../src/protocol/errors.ts";
import { Decimal, TABLE_MAX_DEPTH, Timestamp, decodeTable, encodeTable } from "../src/protocol/table.ts";
import type { FieldTable, FieldValue } from "../src/protocol/table.ts";
import { thrown } from "./support/thrown.ts";

/** Builds table entry bytes by hand: key, type octet, value bytes. */
function entry(key: string, type: string, value: number[]): number[] {
  const k = new TextEncoder().encode(key);
  return [k.length, ...k, type.charCodeAt(0), ...value];
}
const u32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const withLength = (bytes: number[]) => [...u32(bytes.length), ...bytes];
const f32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v);
  return [...b];
};
const f64 = (v: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  return [...b];
};

function decode(bytes: number[]): FieldTable {
  return decodeTable(new Uint8Array(bytes), 0, bytes.length);
}

function decodeError(bytes: number[]): AmqpError {
  return thrown(() => decode(bytes));
}

function roundTrip(table: FieldTable): FieldTable {
  const bytes = encodeTable(table);
  return decodeTable(bytes, 0, bytes.length);
}

describe("decoding hand-built bytes", () => {
  test("decodes a table with every RabbitMQ field type", () => {
    const bytes = [
      ...entry("t1", "t", [1]),
      ...entry("t0", "t", [0]),
      ...entry("b", "b", [0xfe]),
      ...entry("B", "B", [0xfe]),
      ...entry("s", "s", [0xff, 0xfe]),
      ...entry("u", "u", [0xff, 0xfe]),
      ...entry("I", "I", [0xff, 0xff, 0xff, 0xfe]),
      ...entry("i", "i", [0xff, 0xff, 0xff, 0xfe]),
      ...entry("l", "l", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
      ...entry("L", "L", [0, 0, 0, 1, 0, 0, 0, 0]),
      ...entry("f", "f", f32(1.5)),
      ...entry("d", "d", f64(-2.25)),
      ...entry("D", "D", [2, ...u32(12345)]),
      ...entry("S", "S", withLength([...new TextEncoder().encode("héllo")])),
      ...entry("A", "A", withLength([0x49, ...u32(7), 0x53, ...u32(1), 0x61, 0x56])),
      ...entry("T", "T", [0, 0, 0, 0, ...u32(1_700_000_000)]),
      ...entry("F", "F", withLength(entry("inner", "b", [5]))),
      ...entry("V", "V", []),
      ...entry("x", "x", withLength([0, 255, 128])),
    ];
    expect(decode(bytes)).toEqual({
      t1: true,
      t0: false,
      b: -2,
      B: 254,
      s: -2,
      u: 65534,
      I: -2,
      i: 4294967294,
      l: -2,
      L: 2 ** 32,
      f: 1.5,
      d: -2.25,
      D: new Decimal(2, 12345),
      S: "héllo",
      A: [7, "a", null],
      T: new Timestamp(1_700_000_000n),
      F: { inner: 5 },
      V: null,
      x: new Uint8Array([0, 255, 128]),
    });
  });

  test("decodes an empty table", () => {
    expect(decode([])).toEqual({});
  });

  test("decodes 'l' beyond 2^53 as a bigint and within it as a number", () => {
    const big = [...entry("big", "l", [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])];
    const negBig = [...entry("neg", "l", [0x80, 0, 0, 0, 0, 0, 0, 0])];
    const edge = [...entry("edge", "l", [0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])];
    const past = [...entry("past", "l", [0, 0x20, 0, 0, 0, 0, 0, 0])];
    expect(decode([...big, ...negBig, ...edge, ...past])).toEqual({
      big: 2n ** 63n - 1n,
      neg: -(2n ** 63n),
      edge: Number.MAX_SAFE_INTEGER,
      past: 2n ** 53n,
    });
  });

  test("'T' keeps all 64 bits, up to 2^64 - 1 seconds", () => {
    const max = entry("max", "T", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const odd = entry("odd", "T", [0x3a, 0x36, 0x6f, 0x81, 0xb8, 0x53, 0x0f, 0xb2]);
    expect(decode([...max, ...odd])).toEqual({ max: new Timestamp(2n ** 64n - 1n), odd: new Timestamp(4194662705876111282n) });
  });

  test("a '__proto__' key becomes an own entry, not the prototype", () => {
    const t = decode(entry("__proto__", "I", [0, 0, 0, 1]));
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(Object.keys(t)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(t, "__proto__")?.value).toBe(1);
  });

  test("decodes at an offset, reading only the given length", () => {
    const inner = entry("k", "B", [9]);
    const buf = new Uint8Array([1, 2, ...inner, ...entry("no", "B", [1])]);
    expect(decodeTable(buf, 2, inner.length)).toEqual({ k: 9 });
  });
});

describe("malformed tables throw 501 FRAME_ERROR", () => {
  test("an unknown type octet", () => {
    const e = decodeError(entry("k", "Z", [0]));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toContain("unknown field type 'Z'");
  });

  test("a string length past the end of the table", () => {
    expect(decodeError(entry("k", "S", [0, 0, 0, 50, 97])).code).toBe(ReplyCode.frameError);
  });

  test("a nested table length past the end of its enclosing table", () => {
    const outer = entry("o", "F", withLength(entry("i", "S", [0, 0, 0, 9, 97])));
    expect(decodeError(outer).code).toBe(ReplyCode.frameError);
  });

  test("an array whose length overruns the enclosing buffer", () => {
    expect(decodeError(entry("a", "A", [0, 0, 1, 0, 0x56])).code).toBe(ReplyCode.frameError);
  });

  test("a key length past the end", () => {
    expect(decodeError([5, 97]).code).toBe(ReplyCode.frameError);
  });

  test("a value cut short", () => {
    expect(decodeError(entry("k", "l", [0, 0, 0])).code).toBe(ReplyCode.frameError);
  });

  test("nesting deeper than the limit", () => {
    let bytes: number[] = entry("leaf", "V", []);
    for (let i = 0; i < TABLE_MAX_DEPTH; i++) bytes = entry("n", "F", withLength(bytes));
    const e = decodeError(bytes);
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toContain("nested deeper");
  });

  test("nesting just within the limit decodes", () => {
    let bytes: number[] = entry("leaf", "V", []);
    for (let i = 0; i < TABLE_MAX_DEPTH - 1; i++) bytes = entry("n", "F", withLength(bytes));
    let t: FieldValue = decode(bytes);
    for (let i = 0; i < TABLE_MAX_DEPTH - 1; i++) t = (t as FieldTable)["n"]!;
    expect(t).toEqual({ leaf: null });
  });
});

describe("encoding", () => {
  test("infers the type octet from the JavaScript value", () => {
    const bytes = encodeTable({
      bool: true,
      int: -5,
      long: 2 ** 40,
      double: 0.5,
      bigint: -(2n ** 62n),
      str: "s",
      bin: new Uint8Array([1]),
      date: new Timestamp(5n),
      dec: new Decimal(1, 5),
      nil: null,
      arr: [],
      obj: {},
    });
    const types: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let p = 0; p < bytes.length; ) {
      p += 1 + bytes[p]!;
      const type = String.fromCharCode(bytes[p]!);
      types.push(type);
      p += 1;
      p += { t: 1, I: 4, l: 8, d: 8, T: 8, D: 5, V: 0 }[type as "t"] ?? 4 + view.getUint32(p);
    }
    expect(types.join("")).toBe("tIldlSxTDVAF");
  });

  test("round-trips every integer width at its limits, negative values included", () => {
    const table: FieldTable = {
      i32min: -(2 ** 31),
      i32max: 2 ** 31 - 1,
      justOver: 2 ** 31,
      justUnder: -(2 ** 31) - 1,
      safeMax: Number.MAX_SAFE_INTEGER,
      safeMin: Number.MIN_SAFE_INTEGER,
      zero: 0,
      minusOne: -1,
      int64max: 2n ** 63n - 1n,
      int64min: -(2n ** 63n),
    };
    expect(roundTrip(table)).toEqual(table);
  });

  test("a bigint that fits a safe integer decodes as a number", () => {
    expect(roundTrip({ n: 42n })).toEqual({ n: 42 });
  });

  test("round-trips nested arrays and tables, binary, timestamps, decimals and doubles", () => {
    const table: FieldTable = {
      "x-dead-letter-exchange": "dlx",
      "x-death": [
        { count: 3, reason: "expired", queue: "q1", time: new Timestamp(1_600_000_000n), "routing-keys": ["a", "b"] },
        { count: 1, reason: "rejected", nested: [[1, [2, [3]]], {}] },
      ],
      binary: new Uint8Array([0, 1, 2, 255]),
      empty: new Uint8Array(0),
      decimal: new Decimal(3, 4_000_000_000),
      double: Math.PI,
      nan: Number.NaN,
      inf: -Infinity,
      unicode: "日本語 ☃",
      emptyStr: "",
      flag: false,
      nothing: null,
    };
    expect(roundTrip(table)).toEqual(table);
  });

  test("round-trips an empty table to zero bytes", () => {
    expect(encodeTable({}).length).toBe(0);
    expect(roundTrip({})).toEqual({});
  });

  test("undefined values are written as void", () => {
    expect(roundTrip({ u: undefined as unknown as FieldValue })).toEqual({ u: null });
  });

  test("64-bit values round-trip exactly at their limits, nested in arrays and tables", () => {
    const extremes: FieldValue[] = [-(2n ** 63n), 2n ** 63n - 1n, new Timestamp(0n), new Timestamp(2n ** 64n - 1n), new Timestamp(2n ** 53n + 1n)];
    const table: FieldTable = { top: extremes, nested: { deeper: [{ values: extremes }] } };
    expect(roundTrip(table)).toEqual(table);
  });

  test("refuses values the wire cannot carry", () => {
    for (const bad of [
      { b: 2n ** 63n },
      { d: new Decimal(256, 1) },
      { d: new Decimal(1, -1) },
      { t: new Timestamp(-1n) },
      { t: new Timestamp(2n ** 64n) },
      { f: (() => 1) as unknown as FieldValue },
      { s: Symbol("s") as unknown as FieldValue },
    ]) {
      expect(() => encodeTable(bad)).toThrow(AmqpError);
    }
  });

  test("refuses nesting deeper than the limit", () => {
    let t: FieldTable = {};
    for (let i = 0; i < TABLE_MAX_DEPTH; i++) t = { n: t };
    expect(() => encodeTable(t)).toThrow(AmqpError);
  });

  test("refuses a key longer than 255 bytes", () => {
    expect(() => encodeTable({ ["k".repeat(256)]: 1 })).toThrow(AmqpError);
  });
});
