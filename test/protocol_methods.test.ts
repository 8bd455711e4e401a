import { describe, expect, test } from "bun:test";
import { AmqpError, ReplyCode } from "../src/protocol/errors.ts";
import { FrameParser } from "../src/protocol/frame_parser.ts";
import type { FrameSink } from "../src/protocol/frame_parser.ts";
import { decodeMethod, hasContent, methodIds } from "../src/protocol/methods.ts";
import type { Method, MethodName } from "../src/protocol/methods.ts";
import { encodeTable } from "../src/protocol/table.ts";
import type { FieldTable } from "../src/protocol/table.ts";
import { FrameWriter } from "../src/protocol/writer.ts";
import { thrown } from "./support/thrown.ts";

// The spec is the oracle: every method it lists must round-trip, and the bytes must be what an
// encoder written straight from the spec's argument list produces.

interface SpecArg {
  name: string;
  type?: string;
  domain?: string;
  "default-value"?: unknown;
}
interface SpecMethod {
  name: string;
  id: number;
  content?: boolean;
  arguments: SpecArg[];
}
interface SpecClass {
  name: string;
  id: number;
  methods: SpecMethod[];
}
interface Spec {
  domains: [string, string][];
  classes: SpecClass[];
}

const spec = (await Bun.file(new URL("../../shared/spec/amqp-rabbitmq-0.9.1.json", import.meta.url)).json()) as Spec;
const domains = new Map(spec.domains);

/** Reserved fields of 0-9-1 ("reserved-N" in the official XML): not in the API, sent as zero. */
function isReserved(method: string, arg: string): boolean {
  if (arg === "ticket") return method !== "access.request-ok";
  return (
    (method === "connection.open" && (arg === "capabilities" || arg === "insist")) ||
    (method === "connection.open-ok" && arg === "known-hosts") ||
    (method === "channel.open" && arg === "out-of-band") ||
    (method === "channel.open-ok" && arg === "channel-id") ||
    (method === "basic.get-empty" && arg === "cluster-id")
  );
}
/** longstr fields the API carries as bytes (SASL data, secrets); the other longstrs are text. */
const BYTES_FIELDS = new Set(["response", "challenge", "new-secret"]);

function wireType(arg: SpecArg): string {
  let t = arg.domain ?? arg.type ?? "";
  while (domains.has(t) && domains.get(t) !== t) t = domains.get(t)!;
  return t;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

type Value = number | string | boolean | Uint8Array | FieldTable;

/** Non-default values for every field; bits are the opposite of their default unless overridden. */
function sampleValues(method: string, args: SpecArg[], seed: number, bitOverride?: (i: number) => boolean): Record<string, Value> {
  const values: Record<string, Value> = {};
  let bitIndex = 0;
  args.forEach((arg, i) => {
    if (isReserved(method, arg.name)) return;
    const key = camel(arg.name);
    const n = seed + i;
    switch (wireType(arg)) {
      case "octet":
        values[key] = 200 + (n % 50);
        break;
      case "short":
        values[key] = 40000 + n;
        break;
      case "long":
        values[key] = 3_000_000_000 + n;
        break;
      case "longlong":
        values[key] = 2 ** 53 - 1 - n;
        break;
      case "shortstr":
        values[key] = `${method}/${arg.name}/ü${n}`;
        break;
      case "longstr":
        values[key] = BYTES_FIELDS.has(arg.name)
          ? new Uint8Array([0, n & 0xff, 0xff, 0x80, 0])
          : `${arg.name} ${"x".repeat(300)} ☃${n}`;
        break;
      case "table":
        values[key] = { field: arg.name, n, nested: { list: [n, "s", true], big: 2n ** 60n } };
        break;
      case "bit":
        values[key] = bitOverride ? bitOverride(bitIndex) : arg["default-value"] !== true;
        bitIndex++;
        break;
      default:
        throw new Error(`test does not know type ${wireType(arg)} of ${method}.${arg.name}`);
    }
  });
  return values;
}

/** An encoder written straight from the spec's argument list: the independent oracle. */
function specPayload(classId: number, methodId: number, method: string, args: SpecArg[], values: Record<string, Value>): number[] {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v >>> 8, v & 0xff);
  const u32 = (v: number) => out.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const bytesWithLength = (bytes: Uint8Array, lengthBytes: 1 | 4) => {
    if (lengthBytes === 1) out.push(bytes.length);
    else u32(bytes.length);
    out.push(...bytes);
  };
  u16(classId);
  u16(methodId);
  let bitOctet = -1;
  let bitPos = 8;
  for (const arg of args) {
    const type = wireType(arg);
    const reserved = isReserved(method, arg.name);
    const v = values[camel(arg.name)];
    if (type === "bit") {
      if (bitPos === 8) {
        bitOctet = out.length;
        out.push(0);
        bitPos = 0;
      }
      if (!reserved && v === true) out[bitOctet]! |= 1 << bitPos;
      bitPos++;
      continue;
    }
    bitPos = 8;
    switch (type) {
      case "octet":
        out.push(reserved ? 0 : (v as number));
        break;
      case "short":
        u16(reserved ? 0 : (v as number));
        break;
      case "long":
        u32(reserved ? 0 : (v as number));
        break;
      case "longlong": {
        const n = reserved ? 0 : (v as number);
        u32(Math.floor(n / 2 ** 32));
        u32(n % 2 ** 32);
        break;
      }
      case "shortstr":
        bytesWithLength(new TextEncoder().encode(reserved ? "" : (v as string)), 1);
        break;
      case "longstr":
        bytesWithLength(reserved ? new Uint8Array(0) : v instanceof Uint8Array ? v : new TextEncoder().encode(v as string), 4);
        break;
      case "table":
        bytesWithLength(encodeTable(v as FieldTable), 4);
        break;
    }
  }
  return out;
}

/** Runs bytes through a FrameParser (after a protocol header) and collects the frames. */
function parseFrames(bytes: Uint8Array): { type: number; channel: number; payload: Uint8Array }[] {
  const frames: { type: number; channel: number; payload: Uint8Array }[] = [];
  const sink: FrameSink = {
    onProtocolHeader() {},
    onFrame(type, channel, buf, offset, length) {
      frames.push({ type, channel, payload: buf.slice(offset, offset + length) });
    },
  };
  const parser = new FrameParser(sink, 131072);
  parser.push(new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]));
  expect(parser.push(bytes)).toBe(bytes.length);
  return frames;
}

function roundTrip(method: Method, channel: number): { decoded: Method; payload: Uint8Array } {
  const w = new FrameWriter(16);
  w.methodFrame(channel, method);
  const frames = parseFrames(w.take());
  expect(frames).toHaveLength(1);
  const frame = frames[0]!;
  expect(frame.type).toBe(1);
  expect(frame.channel).toBe(channel);
  return { decoded: decodeMethod(frame.payload, 0, frame.payload.length), payload: frame.payload };
}

const allMethods = spec.classes.flatMap((c) => c.methods.map((m) => ({ cls: c, m, name: `${c.name}.${m.name}` })));

describe("every method of the spec", () => {
  test("the spec lists the methods RabbitMQ 0-9-1 has (sanity of the oracle)", () => {
    expect(allMethods.length).toBe(66);
  });

  for (const { cls, m, name } of allMethods) {
    test(`${name} round-trips with non-default values and matches the spec's byte layout`, () => {
      const ids = methodIds(name as MethodName); // a method missing from the codec fails here
      expect(ids).toEqual({ classId: cls.id, methodId: m.id });
      expect(hasContent(name as MethodName)).toBe(m.content === true);

      const values = sampleValues(name, m.arguments, cls.id + m.id);
      const method = { name, ...values } as unknown as Method;
      const { decoded, payload } = roundTrip(method, 7 + m.id);
      expect(decoded).toEqual(method);
      expect(Array.from(payload)).toEqual(specPayload(cls.id, m.id, name, m.arguments, values));
    });

    const bitCount = m.arguments.filter((a) => wireType(a) === "bit" && !isReserved(name, a.name)).length;
    if (bitCount > 0) {
      test(`${name} packs each of its ${bitCount} bits into its own position`, () => {
        for (let only = 0; only < bitCount; only++) {
          const values = sampleValues(name, m.arguments, 1, (i) => i === only);
          const method = { name, ...values } as unknown as Method;
          const { decoded, payload } = roundTrip(method, 1);
          expect(decoded).toEqual(method);
          expect(Array.from(payload)).toEqual(specPayload(cls.id, m.id, name, m.arguments, values));
        }
      });
    }
  }
});

describe("decodeMethod on hand-built payloads", () => {
  test("decodes basic.publish, ignoring the ticket and reading both bits", () => {
    const payload = new Uint8Array([0, 60, 0, 40, 0x12, 0x34, 2, 101, 120, 3, 107, 101, 121, 0b10]);
    expect(decodeMethod(payload, 0, payload.length)).toEqual({
      name: "basic.publish",
      exchange: "ex",
      routingKey: "key",
      mandatory: false,
      immediate: true,
    });
  });

  test("decodes basic.ack at an offset inside a larger buffer", () => {
    const buf = new Uint8Array([9, 9, 0, 60, 0, 80, 0, 0, 0, 1, 0, 0, 0, 2, 1, 9]);
    expect(decodeMethod(buf, 2, 13)).toEqual({ name: "basic.ack", deliveryTag: 2 ** 32 + 2, multiple: true });
  });

  test("unknown class and unknown method ids give 503 COMMAND_INVALID naming the ids", () => {
    for (const [classId, methodId] of [
      [61, 10],
      [60, 200],
      [10, 12],
    ] as const) {
      const e = thrown(() => decodeMethod(new Uint8Array([0, classId, 0, methodId]), 0, 4));
      expect(e.code).toBe(ReplyCode.commandInvalid);
      expect(e.detail).toContain(`class ${classId}, method ${methodId}`);
      expect([e.classId, e.methodId]).toEqual([classId, methodId]);
    }
  });

  test("a truncated payload gives 501 FRAME_ERROR 'cannot decode <method>'", () => {
    const w = new FrameWriter();
    w.methodFrame(1, { name: "queue.declare", queue: "q", passive: false, durable: true, exclusive: false, autoDelete: false, nowait: false, arguments: { a: 1 } });
    const frame = w.take();
    const payload = frame.subarray(7, frame.length - 1);
    for (let cut = 4; cut < payload.length; cut++) {
      const e = thrown(() => decodeMethod(payload, 0, cut));
      expect(e.code).toBe(ReplyCode.frameError);
      expect(e.detail).toStartWith("cannot decode queue.declare:");
      expect([e.classId, e.methodId]).toEqual([50, 10]);
    }
  });

  test("a payload shorter than the class and method ids gives 501", () => {
    expect(thrown(() => decodeMethod(new Uint8Array([0, 60, 0]), 0, 3)).code).toBe(ReplyCode.frameError);
  });

  test("trailing bytes after the last argument give 501, as RabbitMQ matches whole payloads", () => {
    const payload = new Uint8Array([0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xff]);
    const e = thrown(() => decodeMethod(payload, 0, payload.length));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toContain("trailing");
  });

  test("a shortstr length past the end of the payload gives 501", () => {
    const payload = new Uint8Array([0, 60, 0, 40, 0, 0, 200, 101, 120]);
    expect(thrown(() => decodeMethod(payload, 0, payload.length)).code).toBe(ReplyCode.frameError);
  });

  test("a table length past the end of the payload gives 501", () => {
    // queue.declare with arguments claiming 1000 bytes
    const payload = new Uint8Array([0, 50, 0, 10, 0, 0, 1, 113, 0, 0, 0, 3, 0xe8]);
    const e = thrown(() => decodeMethod(payload, 0, payload.length));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toStartWith("cannot decode queue.declare:");
  });

  test("a malformed table inside arguments gives 501 naming the method", () => {
    // arguments = { k: <type 'Z'> }
    const payload = new Uint8Array([0, 50, 0, 10, 0, 0, 1, 113, 0, 0, 0, 0, 3, 1, 107, 90]);
    const e = thrown(() => decodeMethod(payload, 0, payload.length));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toContain("unknown field type 'Z'");
    expect([e.classId, e.methodId]).toEqual([50, 10]);
  });

  test("malformed UTF-8 in a shortstr gives 501 'Malformed UTF-8 in shortstr' like RabbitMQ", () => {
    const payload = new Uint8Array([0, 60, 0, 70, 0, 0, 2, 0xc3, 0x28, 0]);
    const e = thrown(() => decodeMethod(payload, 0, payload.length));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toBe("Malformed UTF-8 in shortstr");
  });

  test("a delivery tag beyond 2^53 gives 501 rather than a rounded number", () => {
    const payload = new Uint8Array([0, 60, 0, 80, 0, 0x20, 0, 0, 0, 0, 0, 0, 0]);
    expect(thrown(() => decodeMethod(payload, 0, payload.length)).code).toBe(ReplyCode.frameError);
  });

  test("decoded byte fields are copies that outlive the frame buffer", () => {
    const w = new FrameWriter();
    w.methodFrame(0, { name: "connection.secure-ok", response: new Uint8Array([1, 2, 3]) });
    const frame = w.take();
    const m = decodeMethod(frame, 7, frame.length - 8);
    frame.fill(0);
    expect(m).toEqual({ name: "connection.secure-ok", response: new Uint8Array([1, 2, 3]) });
  });
});

describe("encoding limits", () => {
  test("a shortstr over 255 bytes throws and leaves no partial frame in the writer", () => {
    const w = new FrameWriter();
    w.heartbeat();
    expect(() => w.methodFrame(1, { name: "basic.cancel", consumerTag: "é".repeat(128), nowait: false })).toThrow(AmqpError);
    expect(Array.from(w.take())).toEqual([8, 0, 0, 0, 0, 0, 0, 0xce]);
  });

  test("a 255-byte shortstr is accepted", () => {
    const tag = "t".repeat(255);
    const { decoded } = roundTrip({ name: "basic.cancel-ok", consumerTag: tag }, 1);
    expect(decoded).toEqual({ name: "basic.cancel-ok", consumerTag: tag });
  });
});
