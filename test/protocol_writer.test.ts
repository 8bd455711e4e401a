import { describe, expect, test } from "bun:test";
import { AmqpError } from "../src/protocol/errors.ts";
import type { Method } from "../src/protocol/methods.ts";
import { encodeProperties } from "../src/protocol/properties.ts";
import { FrameWriter } from "../src/protocol/writer.ts";

/** A message envelope as the shards keep it (src/shard/records.ts). */
function envelope(exchange: string, routingKey: string, props: Uint8Array, body: Uint8Array): Uint8Array {
  const encoder = new TextEncoder();
  const ex = encoder.encode(exchange);
  const rk = encoder.encode(routingKey);
  const out = new Uint8Array(2 + ex.length + rk.length + 4 + props.length + body.length);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = ex.length;
  out.set(ex, at);
  at += ex.length;
  out[at++] = rk.length;
  out.set(rk, at);
  at += rk.length;
  view.setUint32(at, props.length);
  at += 4;
  out.set(props, at);
  out.set(body, at + props.length);
  return out;
}

function bytesOf(write: (w: FrameWriter) => void, initial_bytes = 8): number[] {
  const w = new FrameWriter(initial_bytes);
  write(w);
  return Array.from(w.take());
}

function viaMethodFrame(channel: number, method: Method): number[] {
  return bytesOf((w) => w.methodFrame(channel, method));
}

describe("hot-path writers produce exactly the bytes methodFrame produces", () => {
  const strings = ["", "amq.direct", "ctag-1.2.3", "ключ", "k".repeat(255)];
  const tags = [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];

  test("basicDeliver", () => {
    for (const s of strings) {
      for (const tag of tags) {
        for (const redelivered of [false, true]) {
          const expected = viaMethodFrame(513, {
            name: "basic.deliver",
            consumerTag: s.slice(0, 100),
            deliveryTag: tag,
            redelivered,
            exchange: "ex",
            routingKey: s,
          });
          expect(bytesOf((w) => w.basicDeliver(513, s.slice(0, 100), tag, redelivered, "ex", s))).toEqual(expected);
        }
      }
    }
  });

  test("deliverEnvelope and getOkEnvelope write the method, header and body frames of the envelope", () => {
    const encoder = new TextEncoder();
    const props = encodeProperties({ contentType: "text/plain", headers: { a: 1 }, deliveryMode: 2 });
    for (const exchange of ["", "amq.direct", "ключ"]) {
      for (const body of [new Uint8Array(0), encoder.encode("hello"), new Uint8Array(10_000).fill(7)]) {
        const env = envelope(exchange, "rk.1", props, body);
        const padded = new Uint8Array(env.length + 5);
        padded.set(env, 3);
        const expectedDeliver = bytesOf((w) => {
          w.methodFrame(7, { name: "basic.deliver", consumerTag: "ctag", deliveryTag: 2 ** 40, redelivered: true, exchange, routingKey: "rk.1" });
          w.contentHeader(7, 60, body.length, props);
          w.bodyFrames(7, body, 4096);
        });
        expect(bytesOf((w) => w.deliverEnvelope(7, "ctag", 2 ** 40, true, padded, 3, env.length, 4096))).toEqual(expectedDeliver);
        const expectedGetOk = bytesOf((w) => {
          w.methodFrame(2, { name: "basic.get-ok", deliveryTag: 9, redelivered: false, exchange, routingKey: "rk.1", messageCount: 4_000_000_000 });
          w.contentHeader(2, 60, body.length, props);
          w.bodyFrames(2, body, 4096);
        });
        expect(bytesOf((w) => w.getOkEnvelope(2, 9, false, 4_000_000_000, padded, 3, env.length, 4096))).toEqual(expectedGetOk);
      }
    }
  });

  test("basicAck", () => {
    for (const tag of tags) {
      for (const multiple of [false, true]) {
        const expected = viaMethodFrame(65535, { name: "basic.ack", deliveryTag: tag, multiple });
        expect(bytesOf((w) => w.basicAck(65535, tag, multiple))).toEqual(expected);
      }
    }
  });

  test("basicNack", () => {
    for (const tag of tags) {
      for (const multiple of [false, true]) {
        for (const requeue of [false, true]) {
          const expected = viaMethodFrame(1, { name: "basic.nack", deliveryTag: tag, multiple, requeue });
          expect(bytesOf((w) => w.basicNack(1, tag, multiple, requeue))).toEqual(expected);
        }
      }
    }
  });

  test("basic.deliver bytes match the spec layout written by hand", () => {
    expect(bytesOf((w) => w.basicDeliver(1, "c", 2 ** 32 + 5, true, "e", "r"))).toEqual([
      1, 0, 1, 0, 0, 0, 19, // method frame, channel 1, size 19
      0, 60, 0, 60, // basic.deliver
      1, 99, // consumer-tag "c"
      0, 0, 0, 1, 0, 0, 0, 5, // delivery-tag
      1, // redelivered
      1, 101, // exchange "e"
      1, 114, // routing-key "r"
      0xce,
    ]);
  });

  test("a delivery whose strings are too long throws and leaves the earlier frames intact", () => {
    const w = new FrameWriter(8);
    w.basicAck(1, 1, false);
    const before = Array.from(w.u8.subarray(0, w.length));
    expect(() => w.basicDeliver(1, "c", 1, false, "e", "r".repeat(256))).toThrow(AmqpError);
    expect(() => w.deliverEnvelope(1, "é".repeat(200), 1, false, envelope("e", "r", new Uint8Array([0, 0]), new Uint8Array(0)), 0, 11, 4096)).toThrow(AmqpError);
    expect(Array.from(w.take())).toEqual(before);
  });
});

describe("content frames", () => {
  test("bodyFrames splits at frameMax - 8 and writes whole frames", () => {
    const body = new Uint8Array(10_000).map((_, i) => i & 0xff);
    const out = new Uint8Array(bytesOf((w) => w.bodyFrames(4, body, 4096)));
    const payloads: number[] = [];
    const reassembled: number[] = [];
    for (let p = 0; p < out.length; ) {
      expect(out[p]).toBe(3);
      expect((out[p + 1]! << 8) | out[p + 2]!).toBe(4);
      const size = new DataView(out.buffer).getUint32(p + 3);
      payloads.push(size);
      reassembled.push(...out.subarray(p + 7, p + 7 + size));
      expect(out[p + 7 + size]).toBe(0xce);
      p += size + 8;
    }
    expect(payloads).toEqual([4088, 4088, 1824]);
    expect(reassembled).toEqual(Array.from(body));
  });

  test("a body of exactly frameMax - 8 bytes is one frame", () => {
    expect(bytesOf((w) => w.bodyFrames(1, new Uint8Array(4088), 4096)).length).toBe(4096);
  });

  test("an empty body writes no frame", () => {
    expect(bytesOf((w) => w.bodyFrames(1, new Uint8Array(0), 4096))).toEqual([]);
  });

  test("a frameMax that cannot carry a byte of body is refused", () => {
    expect(() => new FrameWriter().bodyFrames(1, new Uint8Array(1), 8)).toThrow(AmqpError);
  });

  test("contentHeader wraps the raw properties unchanged", () => {
    expect(bytesOf((w) => w.contentHeader(1, 60, 300, new Uint8Array([0x10, 0, 2])))).toEqual([
      2, 0, 1, 0, 0, 0, 15, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 1, 44, 0x10, 0, 2, 0xce,
    ]);
  });

  test("heartbeat is the 8-byte empty frame on channel 0", () => {
    expect(bytesOf((w) => w.heartbeat())).toEqual([8, 0, 0, 0, 0, 0, 0, 0xce]);
  });
});

describe("buffer handling", () => {
  test("take returns everything written since the last take, then starts over", () => {
    const w = new FrameWriter(4);
    w.heartbeat();
    w.basicAck(1, 7, false);
    const first = w.take();
    expect(first.length).toBe(8 + 21);
    expect(w.length).toBe(0);
    w.heartbeat();
    expect(Array.from(w.take())).toEqual([8, 0, 0, 0, 0, 0, 0, 0xce]);
  });

  test("grows from a tiny buffer across many frames without corrupting earlier ones", () => {
    const w = new FrameWriter(1);
    const expected: number[] = [];
    for (let i = 0; i < 1000; i++) {
      w.basicDeliver(1, `c${i}`, i, false, "x", "y".repeat(i % 200));
      expected.push(...viaMethodFrame(1, { name: "basic.deliver", consumerTag: `c${i}`, deliveryTag: i, redelivered: false, exchange: "x", routingKey: "y".repeat(i % 200) }));
    }
    expect(Array.from(w.take())).toEqual(expected);
  });
});
