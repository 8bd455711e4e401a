// The connection handshake under bad or unusual input, through raw sockets: protocol headers,
// SASL logins, tune-ok limits, heartbeats and the handshake timeout. Every case runs in its own
// connection; afterwards a healthy connection opened at the start must still publish and get.
// Reference: RabbitMQ 3.10 on loopback (differences are noted at each test).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { AMQP_091_HEADER, HealthProbe, RawAmqp } from "./support/raw_amqp.ts";
import { FrameType } from "../src/protocol/constants.ts";

let broker: BrokerProcess;
let probe: HealthProbe;

beforeAll(async () => {
  broker = await startBroker();
  probe = await HealthProbe.open(broker.port, "handshake-probe");
});

afterAll(async () => {
  await probe?.close();
  await broker?.dispose();
});

const ascii = (text: string): Uint8Array => new Uint8Array([...text].map((c) => c.charCodeAt(0)));

/** Connects, sends the 0-9-1 header and waits for connection.start. */
async function started(): Promise<RawAmqp> {
  const client = await RawAmqp.connect(broker.port);
  client.write(AMQP_091_HEADER);
  await client.expectMethod(0, "connection.start");
  return client;
}

describe("protocol header", () => {
  // RabbitMQ 3.10 answers "AMQP" 1 1 0 9 (AMQP 0-9) with connection.start, treating it as
  // 0-9-1; Warren speaks 0-9-1 only and answers it like any other header it does not support.
  for (const [name, header] of [
    ["an HTTP request line", "HTTP/1.1"],
    ["AMQP 0-9-0", "AMQP\x00\x00\x09\x00"],
    ["the AMQP 0-9 header", "AMQP\x01\x01\x00\x09"],
    ["AMQP 0-8", "AMQP\x01\x01\x08\x00"],
  ] as const) {
    test(`${name} gets the 0-9-1 header back and the socket closed`, async () => {
      const client = await RawAmqp.connect(broker.port);
      client.write(ascii(header));
      expect(await client.waitClosed()).toEqual(AMQP_091_HEADER);
      expect(await probe.roundTrip()).toStartWith("probe");
    });
  }

  test("a header that arrives one byte at a time still starts the handshake", async () => {
    const client = await RawAmqp.connect(broker.port);
    for (const byte of AMQP_091_HEADER) {
      client.write(new Uint8Array([byte]));
      await Bun.sleep(2); // separate TCP segments, so the parser must assemble the header
    }
    const start = await client.expectMethod(0, "connection.start");
    expect(start.mechanisms.split(" ")).toEqual(expect.arrayContaining(["PLAIN", "AMQPLAIN"]));
    await client.close();
  });
});

describe("login", () => {
  for (const mechanism of ["PLAIN", "AMQPLAIN"] as const) {
    test(`${mechanism} login with the right password opens the connection and a channel`, async () => {
      const client = await RawAmqp.open(broker.port, { mechanism });
      await client.openChannel(1);
      client.sendMethod(0, { name: "connection.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
      await client.expectMethod(0, "connection.close-ok");
      client.end();
      expect(await client.waitClosed(1_000)).toEqual(new Uint8Array(0));
      expect(await probe.roundTrip()).toStartWith("probe");
    });
  }

  test("a wrong password closes the socket without connection.close when the client did not ask for one", async () => {
    const client = await started();
    client.sendStartOk({ password: "wrong" });
    // No frame at all: the server just ends the socket (RabbitMQ does the same).
    expect(await client.waitClosed()).toEqual(new Uint8Array(0));
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  for (const mechanism of ["PLAIN", "AMQPLAIN"] as const) {
    test(`a wrong ${mechanism} password gets connection.close 403 when the client advertised authentication_failure_close`, async () => {
      const client = await started();
      client.sendStartOk({ mechanism, password: "wrong", capabilities: { authentication_failure_close: true } });
      const close = await client.expectConnectionClose();
      expect(close.replyCode).toBe(403);
      expect(close.replyText).toBe(`ACCESS_REFUSED - Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`);
      await client.waitClosed(1_000);
      expect(await probe.roundTrip()).toStartWith("probe");
    });
  }

  test("an unknown user is refused like a wrong password", async () => {
    const client = await started();
    client.sendStartOk({ user: "nobody", capabilities: { authentication_failure_close: true } });
    const close = await client.expectConnectionClose();
    expect(close.replyCode).toBe(403);
    await client.waitClosed(1_000);
  });
});

describe("closing", () => {
  // amqplib sends connection.close on channel 0 ahead of channel frames still queued in it. As
  // rabbit_reader does, after close-ok the server drops whatever else arrives and leaves the socket
  // to the client (ending it itself only after 30 s): ending it at once made the client's
  // remaining writes fail (EPIPE) before it could finish its close.
  test("after close-ok to the client's connection.close, later frames are dropped and the socket stays open until the client ends it", async () => {
    const client = await RawAmqp.open(broker.port);
    await client.openChannel(1);
    client.sendMethod(0, { name: "connection.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
    for (let i = 0; i < 50; i++) client.sendMethod(1, { name: "basic.publish", exchange: "", routingKey: "late", mandatory: false, immediate: false });
    client.sendMethod(1, { name: "queue.declare", queue: "", passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: {} });
    await client.expectMethod(0, "connection.close-ok");
    await Bun.sleep(300);
    // Nothing after close-ok (no declare-ok, no error about the content-less publishes), not closed.
    expect(await client.waitClosed(200).catch((e: unknown) => String(e))).toContain("timed out");
    client.end();
    expect(await client.waitClosed(1_000)).toEqual(new Uint8Array(0));
    expect(await probe.roundTrip()).toStartWith("probe");
  });
});

describe("tune-ok", () => {
  // RabbitMQ 3.10 logs the same 530 text but closes the socket silently after 3 s; later
  // versions (and Warren) send it as connection.close.
  const cases = [
    ["frame_max above the server's", { frameMax: 131073 }, "NOT_ALLOWED - negotiated frame_max = 131073 is higher than the maximum allowed value (131072)"],
    ["frame_max below 4096", { frameMax: 1000 }, "NOT_ALLOWED - negotiated frame_max = 1000 is lower than the minimum allowed value (4096)"],
    ["channel_max above the server's", { channelMax: 2048 }, "NOT_ALLOWED - negotiated channel_max = 2048 is higher than the maximum allowed value (2047)"],
    // 0 means "no limit", which is above the limit the server offered.
    ["frame_max 0", { frameMax: 0 }, "NOT_ALLOWED - negotiated frame_max = 0 is higher than the maximum allowed value (131072)"],
    ["channel_max 0", { channelMax: 0 }, "NOT_ALLOWED - negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)"],
  ] as const;
  for (const [name, options, text] of cases) {
    test(`${name} gets connection.close 530`, async () => {
      const client = await RawAmqp.connect(broker.port);
      const tune = await client.startHandshake();
      expect(tune).toEqual({ channelMax: 2047, frameMax: 131072, heartbeat: 60 });
      client.sendMethod(0, {
        name: "connection.tune-ok",
        channelMax: "channelMax" in options ? options.channelMax : tune.channelMax,
        frameMax: "frameMax" in options ? options.frameMax : tune.frameMax,
        heartbeat: 0,
      });
      const close = await client.expectConnectionClose();
      expect(close).toEqual({ replyCode: 530, replyText: text, classId: 10, methodId: 31 });
      await client.waitClosed(1_000);
      expect(await probe.roundTrip()).toStartWith("probe");
    });
  }

  test("the smallest limits a client may ask for work: frame_max 4096 and channel_max 1", async () => {
    const client = await RawAmqp.open(broker.port, { frameMax: 4096, channelMax: 1 });
    await client.openChannel(1);
    await client.close();
  });

  test("an unknown vhost gets connection.close 530 NOT_ALLOWED", async () => {
    const client = await RawAmqp.connect(broker.port);
    await client.startHandshake();
    client.finishHandshake({ vhost: "no-such-vhost" });
    const close = await client.expectConnectionClose();
    expect(close).toEqual({ replyCode: 530, replyText: "NOT_ALLOWED - vhost no-such-vhost not found", classId: 10, methodId: 40 });
    await client.waitClosed(1_000);
  });
});

describe("heartbeats and timeouts", () => {
  test("with heartbeat=1 the server sends heartbeats, keeps a client that sends them, and drops a silent one after ~2 intervals", async () => {
    const silent = await RawAmqp.open(broker.port, { heartbeat: 1 });
    const talker = await RawAmqp.open(broker.port, { heartbeat: 1 });
    const openedAt = Date.now();
    const beat = setInterval(() => talker.sendFrame(FrameType.heartbeat, 0, new Uint8Array(0)), 300);
    try {
      // The silent client still reads: the server's heartbeats must arrive on channel 0.
      const heartbeats: number[] = [];
      const silentClosed = (async () => {
        for (;;) {
          const frame = await silent.readFrame(6_000).catch(() => null);
          if (frame === null) return Date.now() - openedAt;
          if (frame.type === FrameType.heartbeat && frame.channel === 0 && frame.payload.length === 0) heartbeats.push(Date.now() - openedAt);
        }
      })();
      const closedAfter_ms = await silentClosed;
      expect(silent.closed).toBe(true);
      expect(heartbeats.length).toBeGreaterThanOrEqual(1);
      // Dropped after two missed intervals (checked once a second), not at once and not never.
      expect(closedAfter_ms).toBeGreaterThanOrEqual(1_900);
      expect(closedAfter_ms).toBeLessThan(4_500);

      // The talking client outlived it and still works.
      expect(talker.closed).toBe(false);
      let talkerBeats = 0;
      for (;;) {
        const frame = await talker.readFrame(2_000);
        if (frame.type === FrameType.heartbeat) talkerBeats++;
        if (talkerBeats >= 1) break;
      }
      await talker.openChannel(1);
    } finally {
      clearInterval(beat);
      await talker.close();
    }
    expect(await probe.roundTrip()).toStartWith("probe");
  });

  test("heartbeat=0 turns heartbeats off: an idle connection gets none and stays open", async () => {
    const client = await RawAmqp.open(broker.port, { heartbeat: 0 });
    await expect(client.readFrame(1_500)).rejects.toThrow("timed out");
    expect(client.closed).toBe(false);
    await client.close();
  });

  test("a client that never completes the handshake is dropped after the 10 s handshake timeout", async () => {
    const connectedAt = Date.now();
    const mute = await RawAmqp.connect(broker.port); // not even a protocol header
    const stalled = await started(); // header sent, never answers connection.start
    const [muteClosed, stalledClosed] = await Promise.all([
      mute.waitClosed(13_000).then(() => Date.now() - connectedAt),
      stalled.waitClosed(13_000).then(() => Date.now() - connectedAt),
    ]);
    for (const closedAfter_ms of [muteClosed, stalledClosed]) {
      expect(closedAfter_ms).toBeGreaterThanOrEqual(9_500);
      expect(closedAfter_ms).toBeLessThan(12_500);
    }
    expect(await probe.roundTrip()).toStartWith("probe");
  }, 20_000);
});

test("the broker logged no internal error during the handshake cases", async () => {
  expect(await probe.roundTrip()).toStartWith("probe");
  expect(broker.log()).not.toContain("internal error");
  expect(broker.log()).not.toContain("[error]");
});

test("--product-name changes the product connection.start advertises (for applications that check for RabbitMQ)", async () => {
  const named = await startBroker({ args: ["--product-name", "RabbitMQ"] });
  try {
    const client = await RawAmqp.connect(named.port);
    client.write(AMQP_091_HEADER);
    const start = await client.expectMethod(0, "connection.start");
    expect(start.serverProperties["product"]).toBe("RabbitMQ");
    client.end();
  } finally {
    await named.dispose();
  }
  const plain = await RawAmqp.connect(broker.port);
  plain.write(AMQP_091_HEADER);
  expect((await plain.expectMethod(0, "connection.start")).serverProperties["product"]).toBe("Warren");
  plain.end();
});
