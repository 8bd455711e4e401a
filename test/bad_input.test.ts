// Bad input after a good handshake, through raw sockets: broken frames, frames out of place,
// undecodable arguments, oversized messages, channel limits, abrupt disconnects and connection
// churn. Each case runs in its own connection and must end in a clear AMQP error (RabbitMQ's
// reply code, a readable text) and a closed socket - never a crash or a hang - and afterwards a
// healthy connection opened at the start must still publish and get a message.
// Reference: RabbitMQ 3.10 on loopback; where Warren differs, the test says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { FrameType } from "../src/protocol/constants.ts";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { concat, contentHeaderPayload, frameBytes, HealthProbe, methodPayload, RawAmqp, type CloseInfo } from "./support/raw_amqp.ts";
import { mulberry32 } from "./support/seeded_random.ts";
import { serverPids } from "./support/server_crash.ts";

let broker: BrokerProcess;
let probe: HealthProbe;

beforeAll(async () => {
  broker = await startBroker();
  probe = await HealthProbe.open(broker.port, "bad-input-probe");
});

afterAll(async () => {
  await probe?.close();
  await broker?.dispose();
});

const utf8 = new TextEncoder();

/** An open connection with channel 1 open. */
async function openWithChannel(): Promise<RawAmqp> {
  const client = await RawAmqp.open(broker.port);
  await client.openChannel(1);
  return client;
}

/**
 * The connection must get connection.close with this code (and text / class+method when given),
 * the server must end the socket once our close-ok is in (well before its 3 s close-ok timeout),
 * and the healthy connection must still work.
 */
async function expectConnectionError(client: RawAmqp, code: number, text?: string | RegExp, ids?: [number, number]): Promise<CloseInfo> {
  const close = await client.expectConnectionClose();
  expect(close.replyCode).toBe(code);
  if (typeof text === "string") expect(close.replyText).toBe(text);
  else if (text !== undefined) expect(close.replyText).toMatch(text);
  if (ids !== undefined) expect([close.classId, close.methodId]).toEqual(ids);
  await client.waitClosed(1_000);
  expect(await probe.roundTrip()).toStartWith("probe");
  return close;
}

function publishFrame(channel: number, routingKey: string): Uint8Array {
  return frameBytes(FrameType.method, channel, methodPayload({ name: "basic.publish", exchange: "", routingKey, mandatory: false, immediate: false }));
}

const qosPayload = (): Uint8Array => methodPayload({ name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false });

describe("broken frames", () => {
  test("a wrong frame-end octet gets 501 FRAME_ERROR with RabbitMQ's text", async () => {
    const client = await RawAmqp.open(broker.port);
    client.write(frameBytes(FrameType.method, 1, methodPayload({ name: "channel.open" }), 0x00));
    await expectConnectionError(client, 501, "FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,0}");
  });

  test("a frame one byte over the negotiated frame_max gets 501 frame_too_large; one at frame_max passes", async () => {
    const client = await RawAmqp.open(broker.port, { frameMax: 4096 });
    await client.openChannel(1);
    // The message goes to the probe's queue: were any of it delivered, the probe would get it.
    client.write(concat(
      publishFrame(1, probe.queue),
      frameBytes(FrameType.header, 1, contentHeaderPayload(4096 + 4097)),
      frameBytes(FrameType.body, 1, new Uint8Array(4096)), // RabbitMQ tolerates a payload of frame_max
      frameBytes(FrameType.body, 1, new Uint8Array(4097)),
    ));
    await expectConnectionError(client, 501, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}");
  });

  test("an unknown frame type gets 501 unknown_frame", async () => {
    const client = await RawAmqp.open(broker.port);
    client.write(frameBytes(5, 0, new Uint8Array(4)));
    await expectConnectionError(client, 501, "FRAME_ERROR - type 5, all octets = <<0,0,0,0>>: unknown_frame");
  });

  test("a method frame too short for its class and method ids gets 501 unknown_frame", async () => {
    const client = await RawAmqp.open(broker.port);
    client.write(frameBytes(FrameType.method, 0, new Uint8Array([0, 10])));
    await expectConnectionError(client, 501, "FRAME_ERROR - type 1, all octets = <<0,10>>: unknown_frame");
  });

  test("a heartbeat with a payload gets 501 unknown_frame", async () => {
    const client = await RawAmqp.open(broker.port);
    client.write(frameBytes(FrameType.heartbeat, 0, new Uint8Array(2)));
    await expectConnectionError(client, 501, "FRAME_ERROR - type 8, all octets = <<0,0>>: unknown_frame");
  });

  test("a heartbeat on a channel other than 0 gets 505 UNEXPECTED_FRAME", async () => {
    const client = await openWithChannel();
    client.write(frameBytes(FrameType.heartbeat, 1, new Uint8Array(0)));
    await expectConnectionError(client, 505, "UNEXPECTED_FRAME - type 8, all octets = <<>>");
  });

  test("HTTP bytes after a good handshake get 501 frame_too_large (the first octets read as a frame header)", async () => {
    const client = await RawAmqp.open(broker.port);
    client.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await expectConnectionError(client, 501, "FRAME_ERROR - type 71, all octets = <<>>: {frame_too_large,539959368,131064}");
  });
});

describe("unknown methods", () => {
  // RabbitMQ 3.10 crashes the connection process on these ({unknown_method_id, ...}) and drops
  // the socket without connection.close; Warren answers 503 COMMAND_INVALID instead.
  for (const [where, channel, classId, methodId] of [
    ["an unknown class", 1, 99, 10],
    ["an unknown method of a known class", 1, 60, 99],
    ["an unknown connection method", 0, 10, 99],
  ] as const) {
    test(`${where} gets 503 COMMAND_INVALID naming it`, async () => {
      const client = await openWithChannel();
      client.write(frameBytes(FrameType.method, channel, new Uint8Array([0, classId, 0, methodId])));
      await expectConnectionError(client, 503, `COMMAND_INVALID - unknown method: class ${classId}, method ${methodId}`, [classId, methodId]);
    });
  }

  test("a channel method on channel 0 gets 504 CHANNEL_ERROR as in RabbitMQ", async () => {
    const client = await RawAmqp.open(broker.port);
    client.sendMethod(0, { name: "channel.open" });
    await expectConnectionError(client, 504, "CHANNEL_ERROR - unexpected method in connection state running", [20, 10]);
  });

  test("a second connection.start-ok on an open connection gets 504 CHANNEL_ERROR", async () => {
    const client = await RawAmqp.open(broker.port);
    client.sendStartOk();
    await expectConnectionError(client, 504, "CHANNEL_ERROR - unexpected method in connection state running", [10, 11]);
  });
});

describe("content frames out of place", () => {
  const NON_METHOD = "UNEXPECTED_FRAME - expected method frame, got non method frame instead";

  test("a content header without basic.publish gets 505", async () => {
    const client = await openWithChannel();
    client.sendFrame(FrameType.header, 1, contentHeaderPayload(5));
    await expectConnectionError(client, 505, NON_METHOD);
  });

  test("a body frame without basic.publish gets 505", async () => {
    const client = await openWithChannel();
    client.sendFrame(FrameType.body, 1, utf8.encode("hello"));
    await expectConnectionError(client, 505, NON_METHOD);
  });

  test("a method frame where the content header belongs gets 505 naming basic.publish", async () => {
    const client = await openWithChannel();
    client.write(concat(publishFrame(1, probe.queue), frameBytes(FrameType.method, 1, qosPayload())));
    await expectConnectionError(client, 505, "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", [60, 40]);
  });

  test("a body frame where the content header belongs gets 505 naming basic.publish", async () => {
    const client = await openWithChannel();
    client.write(concat(publishFrame(1, probe.queue), frameBytes(FrameType.body, 1, utf8.encode("x"))));
    await expectConnectionError(client, 505, "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", [60, 40]);
  });

  test("a method frame where body frames belong gets 505 and no partial message is delivered", async () => {
    const client = await openWithChannel();
    client.write(concat(
      publishFrame(1, probe.queue),
      frameBytes(FrameType.header, 1, contentHeaderPayload(10)),
      frameBytes(FrameType.body, 1, utf8.encode("half")),
      frameBytes(FrameType.method, 1, qosPayload()),
    ));
    await expectConnectionError(client, 505, "UNEXPECTED_FRAME - expected content body, got non content body frame instead", [60, 40]);
  });

  test("a content header for another class gets 505", async () => {
    const client = await openWithChannel();
    client.write(concat(publishFrame(1, probe.queue), frameBytes(FrameType.header, 1, contentHeaderPayload(1, {}, 50))));
    await expectConnectionError(client, 505, "UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead", [60, 40]);
  });

  // RabbitMQ 3.10 keeps waiting for a body that can never add up and fails at the next method
  // (505); later RabbitMQ versions and Warren answer 501 at once. Nothing may be delivered.
  test("a body longer than the declared body size gets 501 and nothing is delivered", async () => {
    const client = await openWithChannel();
    client.write(concat(
      publishFrame(1, probe.queue),
      frameBytes(FrameType.header, 1, contentHeaderPayload(5)),
      frameBytes(FrameType.body, 1, utf8.encode("hello world")),
    ));
    await expectConnectionError(client, 501, /^FRAME_ERROR - content body frame exceeds remaining content size/, [60, 40]);
  });

  test("a content header on channel 0 gets 505", async () => {
    const client = await RawAmqp.open(broker.port);
    client.sendFrame(FrameType.header, 0, contentHeaderPayload(1));
    await expectConnectionError(client, 505);
  });
});

describe("channels", () => {
  test("a method on a channel that was never opened gets 504 expected 'channel.open'", async () => {
    const client = await RawAmqp.open(broker.port);
    client.sendFrame(FrameType.method, 3, qosPayload());
    await expectConnectionError(client, 504, /^CHANNEL_ERROR - expected 'channel.open'/, [60, 10]);
  });

  for (const [kind, type, payload] of [
    ["content header", FrameType.header, contentHeaderPayload(1)],
    ["body frame", FrameType.body, utf8.encode("x")],
  ] as const) {
    test(`a ${kind} on a channel that was never opened gets 505 as in RabbitMQ`, async () => {
      const client = await RawAmqp.open(broker.port);
      client.sendFrame(type, 3, payload);
      await expectConnectionError(client, 505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead");
    });
  }

  test("channel.open on an open channel gets 504 second 'channel.open' seen", async () => {
    const client = await openWithChannel();
    client.sendMethod(1, { name: "channel.open" });
    await expectConnectionError(client, 504, "CHANNEL_ERROR - second 'channel.open' seen", [20, 10]);
  });

  test("after a connection error the server keeps reading until the client's close-ok, then ends the socket", async () => {
    const client = await RawAmqp.open(broker.port);
    client.sendFrame(FrameType.method, 3, qosPayload());
    const { channel, method } = await client.readMethod();
    expect([channel, method.name]).toEqual([0, "connection.close"]);
    // Frames still in flight are dropped, not answered; the socket stays up for the close-ok.
    client.sendFrame(FrameType.method, 4, qosPayload());
    await expect(client.waitClosed(300)).rejects.toThrow("timed out");
    client.sendMethod(0, { name: "connection.close-ok" });
    expect(await client.waitClosed(1_000)).toEqual(new Uint8Array(0));
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  // RabbitMQ 3.10 only caps how many channels are open and would open channel 11 here; Warren
  // follows the spec (channel-max is the highest channel number) and refuses it.
  test("a channel number above the negotiated channel_max gets 530 NOT_ALLOWED", async () => {
    const client = await RawAmqp.open(broker.port, { channelMax: 10 });
    await client.openChannel(10);
    client.sendMethod(11, { name: "channel.open" });
    await expectConnectionError(client, 530, "NOT_ALLOWED - channel 11 is higher than the negotiated channel_max 10", [20, 10]);
  });

  test("every channel from 1 up to channel_max opens, works and closes on one connection", async () => {
    const client = await RawAmqp.open(broker.port);
    const channelMax = client.tune!.channelMax;
    expect(channelMax).toBe(2047);
    const all = Array.from({ length: channelMax }, (_, i) => i + 1);
    client.write(concat(...all.map((ch) => frameBytes(FrameType.method, ch, methodPayload({ name: "channel.open" })))));
    for (const ch of all) await client.expectMethod(ch, "channel.open-ok");
    client.write(concat(...all.map((ch) => frameBytes(FrameType.method, ch, qosPayload()))));
    for (const ch of all) await client.expectMethod(ch, "basic.qos-ok");
    // The highest channel carries a message through the broker like any other.
    client.publish(channelMax, "", probe.queue, "from the last channel");
    client.sendMethod(channelMax, { name: "basic.get", queue: probe.queue, noAck: true });
    await client.expectMethod(channelMax, "basic.get-ok");
    expect(new TextDecoder().decode(await client.readContent(channelMax))).toBe("from the last channel");
    const close = methodPayload({ name: "channel.close", replyCode: 200, replyText: "", classId: 0, methodId: 0 });
    client.write(concat(...all.map((ch) => frameBytes(FrameType.method, ch, close))));
    for (const ch of all) await client.expectMethod(ch, "channel.close-ok");
    await client.openChannel(1); // numbers are free again
    await client.close();
    expect(await probe.roundTrip()).toStartWith("probe");
  }, 15_000);
});

describe("undecodable arguments", () => {
  // RabbitMQ: 501 "cannot decode <<raw octets>>"; Warren names the method and what is wrong.
  test("a field table whose length points past the frame gets 501 cannot decode", async () => {
    const client = await openWithChannel();
    const payload = methodPayload({ name: "queue.declare", queue: "q", passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} });
    new DataView(payload.buffer).setUint32(payload.length - 4, 1000); // the (empty) table's length
    client.sendFrame(FrameType.method, 1, payload);
    await expectConnectionError(client, 501, /^FRAME_ERROR - cannot decode queue\.declare: .+/, [50, 10]);
  });

  test("a shortstr whose length points past the frame gets 501 cannot decode", async () => {
    const client = await openWithChannel();
    client.sendFrame(FrameType.method, 1, new Uint8Array([0, 60, 0, 40, 0, 0, 200, 1, 2]));
    await expectConnectionError(client, 501, /^FRAME_ERROR - cannot decode basic\.publish: .+/, [60, 40]);
  });

  // RabbitMQ 3.10 crashes the connection on an unknown field type (no connection.close).
  test("an unknown field-table value type gets 501 cannot decode", async () => {
    const client = await openWithChannel();
    const payload = methodPayload({ name: "queue.declare", queue: "q", passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: { a: "b" } });
    payload[payload.lastIndexOf(0x53)] = 0x51; // the value's type octet 'S' becomes 'Q'
    client.sendFrame(FrameType.method, 1, payload);
    await expectConnectionError(client, 501, /^FRAME_ERROR - cannot decode queue\.declare: .+/, [50, 10]);
  });

  test("bytes after a method's last argument get 501 cannot decode", async () => {
    const client = await openWithChannel();
    client.sendFrame(FrameType.method, 1, concat(qosPayload(), new Uint8Array([1, 2, 3])));
    await expectConnectionError(client, 501, /^FRAME_ERROR - cannot decode basic\.qos: .+/, [60, 10]);
  });

  test("random argument bytes for every client method end in a readable error or a normal reply, never 541", async () => {
    const methods: [number, number][] = [
      [20, 20], [20, 21], [20, 40], [20, 41], [30, 10], [40, 10], [40, 20], [40, 30], [40, 40],
      [50, 10], [50, 20], [50, 30], [50, 40], [50, 50], [60, 10], [60, 20], [60, 30], [60, 40],
      [60, 70], [60, 80], [60, 90], [60, 100], [60, 110], [60, 120], [85, 10], [90, 10], [90, 20], [90, 30],
    ];
    const random = mulberry32(0x5eed);
    for (const [classId, methodId] of methods) {
      for (let round = 0; round < 3; round++) {
        const args = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
        const what = `class ${classId} method ${methodId} args <<${args.join(",")}>>`;
        const client = await openWithChannel();
        client.write(concat(
          frameBytes(FrameType.method, 1, concat(new Uint8Array([0, classId, 0, methodId]), args)),
          frameBytes(FrameType.method, 0, methodPayload({ name: "connection.close", replyCode: 200, replyText: "done", classId: 0, methodId: 0 })),
        ));
        // Either the server rejects the frame (connection.close) or it handles it and then our close.
        let close: CloseInfo | null = null;
        for (;;) {
          const { channel, method } = await client.readMethod();
          if (channel !== 0) continue;
          if (method.name === "connection.close-ok") break;
          if (method.name === "connection.close") {
            close = { replyCode: method.replyCode, replyText: method.replyText, classId: method.classId, methodId: method.methodId };
            client.sendMethod(0, { name: "connection.close-ok" });
            break;
          }
          throw new Error(`${what}: unexpected ${method.name} on channel 0`);
        }
        if (close !== null) {
          expect({ what, code: close.replyCode }).not.toEqual({ what, code: 541 });
          expect({ what, text: close.replyText }).toEqual({ what, text: expect.stringMatching(/^[A-Z_]+ - [\x20-\x7e]+$/) });
          await client.waitClosed(1_000); // after its own close, the server ends the socket at close-ok
        } else {
          client.end(); // after close-ok to ours, closing the socket is the client's turn
        }
      }
    }
    expect(await probe.roundTrip()).toStartWith("probe");
  }, 15_000);
});

describe("message size", () => {
  // RabbitMQ 3.10 sends the same channel.close once the whole body has arrived; Warren already
  // at the content header, and drops the body frames the client goes on sending.
  test("a content header declaring more than 128 MiB gets channel.close 406 with RabbitMQ's text; the connection lives on", async () => {
    const client = await openWithChannel();
    const declared = 128 * 1024 * 1024 + 1;
    client.write(concat(
      publishFrame(1, probe.queue),
      frameBytes(FrameType.header, 1, contentHeaderPayload(declared)),
      frameBytes(FrameType.body, 1, new Uint8Array(100_000)),
      frameBytes(FrameType.body, 1, new Uint8Array(100_000)),
    ));
    const close = await client.expectChannelClose(1);
    expect(close).toEqual({
      replyCode: 406,
      replyText: `PRECONDITION_FAILED - message size ${declared} is larger than configured max size 134217728`,
      classId: 60,
      methodId: 40,
    });
    // The channel number can be used again, and it publishes normally.
    await client.openChannel(1);
    client.publish(1, "", probe.queue, "after the big one");
    client.sendMethod(1, { name: "basic.get", queue: probe.queue, noAck: true });
    await client.expectMethod(1, "basic.get-ok");
    expect(new TextDecoder().decode(await client.readContent(1))).toBe("after the big one");
    await client.close();
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  const vmSize_kB = (pid: number): number => Number(/VmSize:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

  test.skipIf(process.platform !== "linux")("declared bodies that never arrive do not make the broker reserve their size", async () => {
    const [pid] = serverPids(broker);
    if (pid === undefined) throw new Error(`no broker process for port ${broker.port}`);
    const client = await RawAmqp.open(broker.port);
    const channels = Array.from({ length: 1000 }, (_, i) => i + 1);
    client.write(concat(...channels.map((ch) => frameBytes(FrameType.method, ch, methodPayload({ name: "channel.open" })))));
    for (const ch of channels) await client.expectMethod(ch, "channel.open-ok");
    const before_kB = vmSize_kB(pid);
    // 1000 channels x 128 MiB declared = 125 GiB, and then not one body byte.
    client.write(concat(...channels.flatMap((ch) => [publishFrame(ch, probe.queue), frameBytes(FrameType.header, ch, contentHeaderPayload(128 * 1024 * 1024))])));
    // A round trip on one more channel: frames are handled in order, so all headers are in.
    await client.openChannel(1001);
    const grown_GiB = (vmSize_kB(pid) - before_kB) / 1024 / 1024;
    expect(grown_GiB).toBeLessThan(16);
    client.end(); // walk away mid-message on every channel
    await client.waitClosed();
    expect(await probe.roundTrip()).toStartWith("probe");
  });
});

describe("abrupt clients", () => {
  test("half a method frame and then a closed socket leave the broker serving others", async () => {
    const client = await openWithChannel();
    const frame = publishFrame(1, probe.queue);
    client.write(frame.subarray(0, 10));
    await client.flushed();
    client.end();
    await client.waitClosed();
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  test("half a message body and then a closed socket deliver nothing and leave the broker serving others", async () => {
    const client = await openWithChannel();
    client.write(concat(
      publishFrame(1, probe.queue),
      frameBytes(FrameType.header, 1, contentHeaderPayload(1000)),
      frameBytes(FrameType.body, 1, new Uint8Array(1000)).subarray(0, 500),
    ));
    await client.flushed();
    client.end();
    await client.waitClosed();
    // A partial message reaching the probe's queue would make this round trip fail.
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  test("200 connections opened and closed rapidly, half of them abruptly, leave the broker serving others", async () => {
    const batch = 25;
    for (let start = 0; start < 200; start += batch) {
      await Promise.all(Array.from({ length: batch }, async (_, i) => {
        const client = await RawAmqp.open(broker.port);
        await client.openChannel(1);
        if ((start + i) % 2 === 0) {
          await client.close();
        } else {
          client.end();
        }
        await client.waitClosed();
      }));
    }
    expect(await probe.roundTrip()).toStartWith("probe");
  }, 15_000);
});

test("after all of that the broker is healthy and logged no internal error", async () => {
  expect(await probe.roundTrip()).toStartWith("probe");
  expect(await probe.roundTrip()).toStartWith("probe");
  const log = broker.log();
  expect(log).not.toContain("internal error");
  expect(log).not.toContain("[error]");
});
