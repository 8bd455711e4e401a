import { describe, expect, test } from "bun:test";
import { AmqpError, ReplyCode } from "../src/protocol/errors.ts";
import {
  PropertyFlag,
  decodeContentHeader,
  decodeProperties,
  encodeProperties,
  peekDeliveryMode,
  peekExpiration,
  peekHeaders,
  peekPriority,
  peekReplyTo,
  peekUserId,
  replyToRange,
} from "../src/protocol/properties.ts";
import type { BasicProperties } from "../src/protocol/properties.ts";
import { FrameWriter } from "../src/protocol/writer.ts";
import { lcg } from "./support/seeded_random.ts";

const ALL: Required<BasicProperties> = {
  contentType: "application/json",
  contentEncoding: "gzip",
  headers: { "x-match": "all", n: 1, nested: { list: [1, "two", null] } },
  deliveryMode: 2,
  priority: 9,
  correlationId: "corr-ü",
  replyTo: "amq.rabbitmq.reply-to",
  expiration: "60000",
  messageId: "msg-1",
  timestamp: 1_700_000_000n,
  type: "order.created",
  userId: "guest",
  appId: "warren-test",
  clusterId: "c1",
};
const NAMES = Object.keys(ALL) as (keyof BasicProperties)[];

function decode(raw: Uint8Array): BasicProperties {
  return decodeProperties(raw, 0, raw.length);
}

function randomProps(next: () => number): BasicProperties {
  const p: Record<string, unknown> = {};
  for (const name of NAMES) {
    if (next() < 0.5) continue;
    const v = ALL[name];
    if (typeof v === "bigint") p[name] = BigInt(Math.floor(next() * 2 ** 32)) * BigInt(Math.floor(next() * 2 ** 32));
    else if (typeof v === "string") p[name] = `${v}-${Math.floor(next() * 1000)}`.repeat(1 + Math.floor(next() * 3));
    else if (typeof v === "number") p[name] = Math.floor(next() * 256);
    else p[name] = { k: Math.floor(next() * 100), s: "v".repeat(Math.floor(next() * 40)) };
  }
  return p as BasicProperties;
}

describe("basic properties", () => {
  test("all 14 properties round-trip", () => {
    expect(decode(encodeProperties(ALL))).toEqual(ALL);
  });

  test("each property alone round-trips and sets only its own flag bit", () => {
    for (const name of NAMES) {
      const props = { [name]: ALL[name] } as BasicProperties;
      const raw = encodeProperties(props);
      expect(decode(raw)).toEqual(props);
      expect((raw[0]! << 8) | raw[1]!).toBe(PropertyFlag[name]);
    }
  });

  test("no properties encode to a zero flags word", () => {
    expect(Array.from(encodeProperties({}))).toEqual([0, 0]);
    expect(decode(new Uint8Array([0, 0]))).toEqual({});
  });

  test("decodes hand-built bytes in wire order", () => {
    // content-type "a", delivery-mode 2, timestamp 5, user-id "u"
    const raw = new Uint8Array([0x90, 0x50, 1, 97, 2, 0, 0, 0, 0, 0, 0, 0, 5, 1, 117]);
    expect(decode(raw)).toEqual({ contentType: "a", deliveryMode: 2, timestamp: 5n, userId: "u" });
  });

  test("the timestamp keeps every bit of its 64, up to 2^64 - 1", () => {
    for (const timestamp of [0n, 2n ** 53n + 1n, 4194662705876111282n, 2n ** 63n, 2n ** 64n - 1n]) {
      const raw = encodeProperties({ timestamp, replyTo: "r" });
      expect(Array.from(raw.subarray(raw.length - 8))).toEqual(Array.from({ length: 8 }, (_, i) => Number((timestamp >> BigInt(56 - 8 * i)) & 0xffn)));
      expect(decode(raw)).toEqual({ timestamp, replyTo: "r" });
    }
  });

  test("the continuation bit and the reserved bit are ignored, as RabbitMQ 3.x does", () => {
    const raw = encodeProperties({ contentType: "t", priority: 3 });
    for (const low of [1, 2, 3]) {
      const flagged = raw.slice();
      flagged[1]! |= low;
      expect(decode(flagged)).toEqual({ contentType: "t", priority: 3 });
      expect(peekPriority(flagged, 0, flagged.length)).toBe(3);
    }
  });

  test("a value past the end, or bytes left over, give 501 FRAME_ERROR", () => {
    const raw = encodeProperties(ALL);
    for (const bad of [raw.subarray(0, raw.length - 1), new Uint8Array([...raw, 0]), new Uint8Array([0x80])]) {
      try {
        decode(bad);
        throw new Error("expected an AmqpError");
      } catch (error) {
        expect(error).toBeInstanceOf(AmqpError);
        expect((error as AmqpError).code).toBe(ReplyCode.frameError);
      }
    }
  });

  test("refuses to encode an out-of-range octet or timestamp", () => {
    expect(() => encodeProperties({ priority: 256 })).toThrow(AmqpError);
    expect(() => encodeProperties({ deliveryMode: -1 })).toThrow(AmqpError);
    expect(() => encodeProperties({ timestamp: -1n })).toThrow(AmqpError);
    expect(() => encodeProperties({ timestamp: 2n ** 64n })).toThrow(AmqpError);
  });
});

describe("peeks", () => {
  test("every peek agrees with decodeProperties on random property sets", () => {
    const next = lcg(42);
    for (let i = 0; i < 500; i++) {
      const props = randomProps(next);
      const raw = encodeProperties(props);
      // inside a larger buffer, as they arrive in a frame
      const buf = new Uint8Array(raw.length + 10);
      buf.set(raw, 5);
      const decoded = decodeProperties(buf, 5, raw.length);
      expect(decoded).toEqual(props);
      expect(peekDeliveryMode(buf, 5, raw.length)).toBe(decoded.deliveryMode ?? 0);
      expect(peekPriority(buf, 5, raw.length)).toBe(decoded.priority);
      expect(peekExpiration(buf, 5, raw.length)).toBe(decoded.expiration);
      expect(peekUserId(buf, 5, raw.length)).toBe(decoded.userId);
      expect(peekReplyTo(buf, 5, raw.length)).toBe(decoded.replyTo);
      const range = replyToRange(buf, 5, raw.length);
      expect(range === undefined ? undefined : new TextDecoder().decode(buf.subarray(range.start + 1, range.end))).toBe(decoded.replyTo);
      expect(peekHeaders(buf, 5, raw.length)).toEqual(decoded.headers);
    }
  });

  test("a peek skips a malformed property before its field with 501", () => {
    // content-type claims 9 bytes, only 1 present; priority wanted after it
    const raw = new Uint8Array([0x88, 0, 9, 97]);
    expect(() => peekPriority(raw, 0, raw.length)).toThrow(AmqpError);
  });
});

describe("content header", () => {
  test("decodes the header FrameWriter.contentHeader writes", () => {
    const props = encodeProperties({ deliveryMode: 2, headers: { a: 1 } });
    const w = new FrameWriter();
    w.contentHeader(3, 60, 2 ** 40 + 7, props);
    const frame = w.take();
    expect(Array.from(frame.subarray(0, 7))).toEqual([2, 0, 3, ...[0, 0, 0, 12 + props.length]]);
    expect(frame[frame.length - 1]).toBe(0xce);
    const header = decodeContentHeader(frame, 7, frame.length - 8);
    expect(header).toEqual({ classId: 60, bodySize: 2 ** 40 + 7, propsOffset: 19, propsLength: props.length });
    expect(decodeProperties(frame, header.propsOffset, header.propsLength)).toEqual({ deliveryMode: 2, headers: { a: 1 } });
  });

  test("fills the object it is given", () => {
    const into = { classId: 0, bodySize: 0, propsOffset: 0, propsLength: 0 };
    const payload = new Uint8Array([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(decodeContentHeader(payload, 0, payload.length, into)).toBe(into);
    expect(into).toEqual({ classId: 60, bodySize: 256, propsOffset: 12, propsLength: 2 });
  });

  test("a body size beyond 2^53 gives 501, a non-zero weight 505, a short payload 501", () => {
    const cases: [number[], number][] = [
      [[0, 60, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0], ReplyCode.frameError],
      [[0, 60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ReplyCode.unexpectedFrame],
      [[0, 60, 0, 0, 0, 0], ReplyCode.frameError],
    ];
    for (const [bytes, code] of cases) {
      const payload = new Uint8Array(bytes);
      try {
        decodeContentHeader(payload, 0, payload.length);
        throw new Error("expected an AmqpError");
      } catch (error) {
        expect(error).toBeInstanceOf(AmqpError);
        expect((error as AmqpError).code).toBe(code);
      }
    }
  });
});
