import { describe, expect, test } from "bun:test";
import { AmqpError, ReplyCode } from "../src/protocol/errors.ts";
import { PROTOCOL_HEADER } from "../src/protocol/constants.ts";
import { FrameParser } from "../src/protocol/frame_parser.ts";
import type { FrameSink } from "../src/protocol/frame_parser.ts";
import { decodeMethod } from "../src/protocol/methods.ts";
import { encodeProperties } from "../src/protocol/properties.ts";
import { FrameWriter } from "../src/protocol/writer.ts";
import { lcg } from "./support/seeded_random.ts";
import { thrown } from "./support/thrown.ts";

interface Seen {
  type: number;
  channel: number;
  payload: number[];
}

const FRAME_MAX = 4096;

/** A sink recording copies of everything, with an optional hook run per frame. */
function recorder(onEach?: (parser: FrameParser, index: number) => void) {
  const frames: Seen[] = [];
  const headers: number[][] = [];
  const bufs: Uint8Array[] = [];
  let parser: FrameParser;
  const sink: FrameSink = {
    onProtocolHeader(header) {
      headers.push(Array.from(header));
    },
    onFrame(type, channel, buf, offset, length) {
      frames.push({ type, channel, payload: Array.from(buf.subarray(offset, offset + length)) });
      bufs.push(buf);
      onEach?.(parser, frames.length - 1);
    },
  };
  parser = new FrameParser(sink, FRAME_MAX);
  return { parser, frames, headers, bufs };
}

/** A realistic stream: handshake, publishes with bodies split over frames, deliveries, heartbeats. */
function sampleStream(): Uint8Array {
  const w = new FrameWriter(64);
  w.writeBytes(PROTOCOL_HEADER);
  w.methodFrame(0, { name: "connection.tune-ok", channelMax: 2047, frameMax: FRAME_MAX, heartbeat: 60 });
  w.heartbeat();
  for (let i = 0; i < 20; i++) {
    const body = new Uint8Array(i * 997).map((_, j) => (j * 7 + i) & 0xff);
    w.methodFrame(1 + (i % 3), { name: "basic.publish", exchange: "amq.topic", routingKey: `k.${i}`, mandatory: i % 2 === 0, immediate: false });
    w.contentHeader(1 + (i % 3), 60, body.length, encodeProperties({ deliveryMode: 2, headers: { i } }));
    w.bodyFrames(1 + (i % 3), body, FRAME_MAX);
    w.basicDeliver(5, `ctag-${i}`, i + 1, i % 2 === 1, "amq.topic", `k.${i}`);
    if (i % 5 === 0) w.heartbeat();
  }
  w.methodFrame(0, { name: "connection.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
  return w.take().slice();
}

function feed(parser: FrameParser, stream: Uint8Array, chunkSize: () => number): void {
  for (let pos = 0; pos < stream.length; ) {
    const n = Math.min(chunkSize(), stream.length - pos);
    // a fresh copy per chunk, as a socket would deliver
    expect(parser.push(stream.slice(pos, pos + n))).toBe(n);
    pos += n;
  }
}

function frame(type: number, channel: number, payload: number[], end = 0xce): number[] {
  const n = payload.length;
  return [type, channel >> 8, channel & 0xff, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, ...payload, end];
}

describe("splitting", () => {
  const stream = sampleStream();
  const whole = recorder();
  whole.parser.push(stream);

  test("one big chunk yields the protocol header and every frame", () => {
    expect(whole.headers).toEqual([Array.from(PROTOCOL_HEADER)]);
    // tune-ok, heartbeat, 20 x (publish, header, bodies, deliver), 4 heartbeats, close
    const bodyFrames = Array.from({ length: 20 }, (_, i) => Math.ceil((i * 997) / (FRAME_MAX - 8))).reduce((a, b) => a + b);
    expect(whole.frames.length).toBe(2 + 20 * 3 + bodyFrames + 4 + 1);
    const first = whole.frames[0]!;
    expect(decodeMethod(new Uint8Array(first.payload), 0, first.payload.length)).toEqual({
      name: "connection.tune-ok",
      channelMax: 2047,
      frameMax: FRAME_MAX,
      heartbeat: 60,
    });
  });

  test("frames wholly inside a chunk are handed over in place, not copied", () => {
    for (const buf of whole.bufs) expect(buf).toBe(stream);
  });

  test("byte-by-byte feeding yields identical frames", () => {
    const r = recorder();
    feed(r.parser, stream, () => 1);
    expect(r.headers).toEqual(whole.headers);
    expect(r.frames).toEqual(whole.frames);
  });

  test("random chunk sizes yield identical frames", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = lcg(seed);
      const r = recorder();
      feed(r.parser, stream, () => 1 + Math.floor(next() * next() * 9000));
      expect(r.frames).toEqual(whole.frames);
    }
  });

  test("a protocol header split over chunks is assembled", () => {
    const r = recorder();
    feed(r.parser, stream.subarray(0, 20), () => 3);
    expect(r.headers).toEqual([Array.from(PROTOCOL_HEADER)]);
  });

  test("an empty chunk consumes nothing", () => {
    const r = recorder();
    expect(r.parser.push(new Uint8Array(0))).toBe(0);
  });
});

describe("frame errors are 501 FRAME_ERROR and kill the parser", () => {
  function started() {
    const r = recorder();
    r.parser.push(PROTOCOL_HEADER);
    return r;
  }

  test("a bad frame-end octet, in one chunk and split", () => {
    const bad = new Uint8Array(frame(1, 1, [0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1, 0], 0xcd));
    for (const split of [false, true]) {
      const r = started();
      const e = thrown(() => (split ? feed(r.parser, bad, () => 2) : r.parser.push(bad)));
      expect(e.code).toBe(ReplyCode.frameError);
      expect(e.detail).toBe("type 1, all octets = <<0,60,0,80,0,0,0,0,0,0,0,1,0>>: {invalid_frame_end_marker,205}");
      expect(r.parser.dead).toBe(true);
      expect(r.frames).toEqual([]);
    }
  });

  test("a frame larger than frameMax is refused from its header alone", () => {
    const r = started();
    const header = frame(3, 1, []).slice(0, 7);
    header[5] = 0x10; // size 4097
    header[6] = 0x01;
    const e = thrown(() => r.parser.push(new Uint8Array(header)));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toBe(`type 3, all octets = <<>>: {frame_too_large,4097,${FRAME_MAX - 8}}`);
  });

  test("a payload of exactly frameMax is tolerated, as RabbitMQ's size fudge allows", () => {
    const r = started();
    r.parser.push(new Uint8Array(frame(3, 1, new Array(FRAME_MAX).fill(7))));
    expect(r.frames[0]!.payload.length).toBe(FRAME_MAX);
  });

  test("frameMax may be changed after tune", () => {
    const r = started();
    const big = new Uint8Array(frame(3, 1, new Array(3000).fill(1)));
    r.parser.frameMax = 2048;
    expect(thrown(() => r.parser.push(big)).detail).toContain("frame_too_large,3000,2040");
    const r2 = started();
    r2.parser.frameMax = 131072;
    r2.parser.push(new Uint8Array(frame(3, 1, new Array(100_000).fill(1))));
    expect(r2.frames.length).toBe(1);
  });

  test("an unknown frame type", () => {
    const r = started();
    const e = thrown(() => r.parser.push(new Uint8Array(frame(9, 0, [1, 2]))));
    expect(e.code).toBe(ReplyCode.frameError);
    expect(e.detail).toBe("type 9, all octets = <<1,2>>: unknown_frame");
  });

  test("frames RabbitMQ cannot analyse: heartbeat with payload, short method or header payload", () => {
    for (const bad of [frame(8, 0, [0]), frame(1, 1, [0, 60, 0]), frame(2, 1, new Array(11).fill(0))]) {
      const r = started();
      const e = thrown(() => r.parser.push(new Uint8Array(bad)));
      expect(e.code).toBe(ReplyCode.frameError);
      expect(e.detail).toEndWith("unknown_frame");
    }
  });

  test("the error text shows only the first 16 payload octets", () => {
    const r = started();
    const e = thrown(() => r.parser.push(new Uint8Array(frame(1, 1, new Array(40).fill(1), 0))));
    expect(e.detail).toStartWith("type 1, first 16 octets = <<1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1>>:");
  });

  test("after an error, push throws", () => {
    const r = started();
    thrown(() => r.parser.push(new Uint8Array(frame(9, 0, []))));
    expect(() => r.parser.push(new Uint8Array(frame(8, 0, [])))).toThrow(AmqpError);
    expect(r.frames).toEqual([]);
  });

  test("an error thrown by the sink propagates and leaves the parser dead", () => {
    const r = recorder(() => {
      throw new AmqpError(ReplyCode.unexpectedFrame, "sink says no");
    });
    r.parser.push(PROTOCOL_HEADER);
    expect(thrown(() => r.parser.push(new Uint8Array([...frame(8, 0, []), ...frame(8, 0, [])]))).detail).toBe("sink says no");
    expect(r.frames.length).toBe(1);
    expect(r.parser.dead).toBe(true);
    expect(() => r.parser.push(new Uint8Array(frame(8, 0, [])))).toThrow(AmqpError);
  });

  test("the frames before a bad one are delivered", () => {
    const r = started();
    const bytes = new Uint8Array([...frame(8, 0, []), ...frame(3, 1, [5]), ...frame(3, 1, [6], 0)]);
    thrown(() => r.parser.push(bytes));
    expect(r.frames.map((f) => f.payload)).toEqual([[], [5]]);
  });
});

describe("pause and resume", () => {
  const stream = sampleStream();
  const expected = recorder();
  expected.parser.push(stream);

  test("pausing in onFrame makes push return the bytes consumed so far; the rest resumes later", () => {
    for (const pauseAt of [0, 1, 5, 30, expected.frames.length - 1]) {
      const r = recorder((parser, index) => {
        if (index === pauseAt) parser.pause();
      });
      const consumed = r.parser.push(stream);
      expect(r.frames.length).toBe(pauseAt + 1);
      expect(consumed).toBeLessThanOrEqual(stream.length);
      expect(r.parser.push(stream.subarray(consumed))).toBe(0); // still paused
      r.parser.resume();
      expect(r.parser.push(stream.subarray(consumed))).toBe(stream.length - consumed);
      expect(r.frames).toEqual(expected.frames);
    }
  });

  test("pausing on a frame assembled across chunks", () => {
    const r = recorder((parser, index) => {
      if (index % 7 === 3) parser.pause();
    });
    const next = lcg(9);
    let pending: Uint8Array = new Uint8Array(0);
    for (let pos = 0; pos < stream.length || pending.length > 0; ) {
      if (pending.length === 0) {
        const n = Math.min(1 + Math.floor(next() * 700), stream.length - pos);
        pending = stream.slice(pos, pos + n);
        pos += n;
      }
      const consumed = r.parser.push(pending);
      pending = pending.subarray(consumed);
      r.parser.resume();
    }
    expect(r.frames).toEqual(expected.frames);
  });

  test("pausing in onProtocolHeader stops before the first frame", () => {
    let parser: FrameParser | undefined;
    const frames: number[] = [];
    const sink: FrameSink = {
      onProtocolHeader() {
        parser!.pause();
      },
      onFrame(type) {
        frames.push(type);
      },
    };
    parser = new FrameParser(sink, FRAME_MAX);
    const bytes = new Uint8Array([...PROTOCOL_HEADER, ...frame(8, 0, [])]);
    expect(parser.push(bytes)).toBe(8);
    expect(frames).toEqual([]);
    parser.resume();
    expect(parser.push(bytes.subarray(8))).toBe(8);
    expect(frames).toEqual([8]);
  });
});
