// The acceptor's Connection and Channel over a Broker in this process (test/support/
// connection_harness.ts): exact frames, reply codes and texts for the handshake, declares,
// confirms, prefetch, requeue, get, channel and connection errors, partial socket writes and the
// client's close. Reply texts are RabbitMQ 3.x's, as the interop tests see them from real clients.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { FrameType } from "../src/protocol/constants.ts";
import { ConnectionHarness, TestBroker, waitUntil } from "./support/connection_harness.ts";

let broker: TestBroker;
const open: ConnectionHarness[] = [];

beforeAll(async () => {
  broker = await TestBroker.start();
});

afterEach(() => {
  for (const h of open.splice(0)) if (h.goneCalls === 0) h.closeSocket();
});

afterAll(() => broker.stop());

/** A connection through the handshake, with channel 1 open. */
async function connected(): Promise<ConnectionHarness> {
  const h = broker.connect();
  open.push(h);
  await h.handshake();
  await h.openChannel(1);
  return h;
}

/** A content header payload: class 60, weight 0, body size, no properties. */
function contentHeaderPayload(bodySize: number): Uint8Array {
  const payload = new Uint8Array(14);
  const view = new DataView(payload.buffer);
  view.setUint16(0, 60);
  view.setBigUint64(4, BigInt(bodySize));
  return payload;
}

test("the handshake reaches open-ok; connection.start advertises the product and Warren's capabilities", async () => {
  const h = broker.connect();
  open.push(h);
  const { start, tune } = await h.handshake();
  expect({ versionMajor: start.versionMajor, versionMinor: start.versionMinor, mechanisms: start.mechanisms, locales: start.locales })
    .toEqual({ versionMajor: 0, versionMinor: 9, mechanisms: "PLAIN AMQPLAIN", locales: "en_US" });
  expect(start.serverProperties["product"]).toBe("Warren");
  expect(start.serverProperties["capabilities"]).toEqual({
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    "basic.nack": true,
    consumer_cancel_notify: true,
    "connection.blocked": true,
    consumer_priorities: true,
    authentication_failure_close: true,
    per_consumer_qos: true,
    direct_reply_to: true,
  });
  expect({ channelMax: tune.channelMax, frameMax: tune.frameMax, heartbeat: tune.heartbeat }).toEqual({ channelMax: 16, frameMax: 131_072, heartbeat: 0 });
  expect(h.connection.isOpen).toBe(true);
  expect(h.connection.user).toBe("guest");
  expect(h.received.map((r) => `${r.channel}:${r.method.name}`)).toEqual(["0:connection.start", "0:connection.tune", "0:connection.open-ok"]);
});

test("queue.declare-ok reports the queue's ready messages and its consumers", async () => {
  const h = await connected();
  expect(await h.declareQueue(1, "core-counts")).toEqual({ name: "queue.declare-ok", queue: "core-counts", messageCount: 0, consumerCount: 0 });
  await h.confirmSelect(1);
  await h.publishConfirmed(1, "core-counts", ["a", "b"]);
  expect(await h.declareQueue(1, "core-counts", { passive: true })).toEqual({ name: "queue.declare-ok", queue: "core-counts", messageCount: 2, consumerCount: 0 });
  // A consumer on channel 2 with prefetch 1 takes one: one left ready, one consumer.
  await h.openChannel(2);
  await h.qos(2, 1);
  await h.consume(2, "core-counts");
  expect((await h.deliveries(1, 2)).map((d) => d.body)).toEqual(["a"]);
  expect(await h.declareQueue(1, "core-counts", { passive: true })).toEqual({ name: "queue.declare-ok", queue: "core-counts", messageCount: 1, consumerCount: 1 });
});

test("three publishes in confirm mode are acked in order with delivery tags 1, 2, 3", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-confirms");
  await h.confirmSelect(1);
  const acks = [];
  for (const body of ["m1", "m2", "m3"]) {
    h.publish(1, "core-confirms", body);
    acks.push(await h.expect("basic.ack"));
  }
  // Each ack covers every publish up to its tag (multiple=true), as Warren coalesces confirms.
  expect(acks).toEqual([1, 2, 3].map((deliveryTag) => ({ name: "basic.ack", deliveryTag, multiple: true })));
  expect(h.unread(1)).toEqual([]);
  expect(await h.declareQueue(1, "core-confirms", { passive: true })).toMatchObject({ messageCount: 3 });
});

test("publishes sent in one batch are acked cumulatively, in order, up to the last tag", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-confirm-batch");
  await h.confirmSelect(1);
  for (let i = 1; i <= 3; i++) h.publish(1, "core-confirm-batch", `m${i}`);
  const tags: number[] = [];
  while (tags.at(-1) !== 3) {
    const ack = await h.expect("basic.ack");
    expect(ack.multiple).toBe(true);
    tags.push(ack.deliveryTag);
  }
  expect(tags.every((tag, i) => i === 0 || tag > tags[i - 1]!)).toBe(true);
  expect(h.unread(1)).toEqual([]);
});

test("a consumer with prefetch 2 gets exactly two deliveries, and the third only after an ack", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-prefetch");
  await h.confirmSelect(1);
  await h.publishConfirmed(1, "core-prefetch", ["p1", "p2", "p3"]);
  await h.qos(1, 2);
  const tag = await h.consume(1, "core-prefetch");
  expect(await h.deliveries(2)).toEqual([
    { consumerTag: tag, deliveryTag: 1, redelivered: false, routingKey: "core-prefetch", body: "p1" },
    { consumerTag: tag, deliveryTag: 2, redelivered: false, routingKey: "core-prefetch", body: "p2" },
  ]);
  // The shard's own count: the third is still ready, and nothing was delivered before this answer.
  expect(await h.declareQueue(1, "core-prefetch", { passive: true })).toMatchObject({ messageCount: 1, consumerCount: 1 });
  h.send(1, { name: "basic.ack", deliveryTag: 1, multiple: false });
  expect(await h.deliveries(1)).toEqual([{ consumerTag: tag, deliveryTag: 3, redelivered: false, routingKey: "core-prefetch", body: "p3" }]);
  expect(await h.declareQueue(1, "core-prefetch", { passive: true })).toMatchObject({ messageCount: 0, consumerCount: 1 });
});

test("a delivery rejected with requeue=true comes back marked redelivered", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-reject");
  await h.confirmSelect(1);
  await h.publishConfirmed(1, "core-reject", ["once"]);
  await h.qos(1, 1);
  await h.consume(1, "core-reject");
  const [first] = await h.deliveries(1);
  expect(first).toMatchObject({ deliveryTag: 1, redelivered: false, body: "once" });
  h.send(1, { name: "basic.reject", deliveryTag: 1, requeue: true });
  const [again] = await h.deliveries(1);
  expect(again).toMatchObject({ deliveryTag: 2, redelivered: true, body: "once" });
});

test("basic.get on an empty queue answers get-empty; with a message, get-ok with its content and the count left", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-get");
  h.send(1, { name: "basic.get", queue: "core-get", noAck: true });
  expect(await h.expect("basic.get-empty")).toEqual({ name: "basic.get-empty" });
  await h.confirmSelect(1);
  await h.publishConfirmed(1, "core-get", ["g1", "g2"]);
  h.send(1, { name: "basic.get", queue: "core-get", noAck: true });
  const got = await h.next(1);
  expect(got.method).toEqual({ name: "basic.get-ok", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "core-get", messageCount: 1 });
  expect(new TextDecoder().decode(got.body)).toBe("g1");
});

test("a passive declare of a missing queue closes that channel with 404; the connection's other channels keep working", async () => {
  const h = await connected();
  await h.openChannel(2);
  h.send(1, { name: "queue.declare", queue: "core-missing", passive: true, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} });
  expect(await h.closedWith(1)).toEqual({ replyCode: 404, replyText: "NOT_FOUND - no queue 'core-missing' in vhost '/'", classId: 50, methodId: 10 });
  // Channel 2 is unaffected while channel 1 awaits its close-ok.
  expect(await h.declareQueue(2, "core-still-here")).toMatchObject({ queue: "core-still-here", messageCount: 0 });
  // Until close-ok, channel 1 drops what comes (this qos gets no answer); then it can be opened again.
  h.send(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 5, global: false });
  h.send(1, { name: "channel.close-ok" });
  await h.openChannel(1);
  expect(await h.declareQueue(1, "core-still-here", { passive: true })).toMatchObject({ messageCount: 0 });
  expect(h.unread(0)).toEqual([]);
  expect(h.connection.isOpen).toBe(true);
});

test("a method on a channel never opened closes the connection with 504; after close-ok the socket ends", async () => {
  const h = await connected();
  h.send(3, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false });
  expect(await h.closedWith(0)).toEqual({ replyCode: 504, replyText: "CHANNEL_ERROR - expected 'channel.open' on channel 3", classId: 60, methodId: 10 });
  expect(h.connection.isOpen).toBe(false);
  expect(h.socket.ended).toBe(false); // it waits for the client's close-ok
  // Frames still in flight are dropped; close-ok ends the socket and the connection is gone.
  h.send(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 1, global: false });
  h.send(0, { name: "connection.close-ok" });
  await waitUntil(() => h.socket.ended, "the socket to end");
  expect(h.goneCalls).toBe(1);
  expect(broker.connections.has(h.connection)).toBe(false);
  expect(h.unread(1)).toEqual([]);
});

test("a method on a channel the client already closed closes the connection with 504", async () => {
  const h = await connected();
  await h.openChannel(2);
  h.send(2, { name: "channel.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
  await h.expect("channel.close-ok", 2);
  h.send(2, { name: "basic.publish", exchange: "", routingKey: "x", mandatory: false, immediate: false });
  expect(await h.closedWith(0)).toEqual({ replyCode: 504, replyText: "CHANNEL_ERROR - expected 'channel.open' on channel 2", classId: 60, methodId: 40 });
  expect(h.unread(1)).toEqual([]);
});

test("a content header on a channel that is not open closes the connection with 505 UNEXPECTED_FRAME", async () => {
  const h = await connected();
  h.sendFrame(FrameType.header, 4, contentHeaderPayload(1));
  expect(await h.closedWith(0)).toEqual({ replyCode: 505, replyText: "UNEXPECTED_FRAME - expected method frame, got non method frame instead", classId: 0, methodId: 0 });
});

test("output the socket takes only part of is kept and written on drain, every byte in order", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-drain");
  await h.confirmSelect(1);
  const bodies = [0, 1, 2, 3].map((i) => `${i}:`.padEnd(10_000, String.fromCharCode(97 + i)));
  await h.publishConfirmed(1, "core-drain", bodies);
  const takenBefore = h.socket.taken;
  h.throttle(1000);
  h.send(1, { name: "basic.consume", queue: "core-drain", consumerTag: "drain", noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: {} });
  // The four deliveries are written: the socket took 1000 bytes, the connection keeps the rest.
  await waitUntil(() => h.connection.pendingOutputBytes > 40_000 - 1000, "the deliveries to queue up");
  expect(h.socket.taken).toBe(takenBefore + 1000);
  expect(h.unread(1).filter((r) => r.method.name === "basic.deliver")).toEqual([]);
  // A reply sent now goes behind them, not past them, even when the socket has room again before
  // Bun reported the drain.
  const pending = h.connection.pendingOutputBytes;
  const taken = h.socket.taken;
  h.throttle(500);
  h.send(1, { name: "basic.qos", prefetchSize: 0, prefetchCount: 0, global: false });
  await waitUntil(() => h.connection.pendingOutputBytes > pending, "qos-ok to queue behind the deliveries");
  expect(h.socket.taken).toBe(taken);
  expect(h.unread(1).map((r) => r.method.name)).toEqual(["basic.consume-ok"]);
  let drains = 0;
  while (h.connection.pendingOutputBytes > 0) {
    h.drain(3000);
    if (++drains > 100) throw new Error("output never drained");
  }
  expect(drains).toBeGreaterThan(10);
  expect(h.socket.shortWrites).toBeGreaterThan(10);
  h.drain();
  await h.expect("basic.consume-ok");
  expect(await h.deliveries(4)).toEqual(bodies.map((body, i) => ({ consumerTag: "drain", deliveryTag: i + 1, redelivered: false, routingKey: "core-drain", body })));
  await h.expect("basic.qos-ok");
  expect(h.unread(1)).toEqual([]);
});

/** A 64 KiB body whose every byte depends on `seed` and its position. */
function bigBody(seed: number): string {
  let s = "";
  for (let i = 0; s.length < 65_536; i++) s += String.fromCharCode(97 + ((seed * 7 + i) % 26));
  return s.slice(0, 65_536);
}

test("64 KiB bodies, whole in one read or split across reads, reach the consumer intact", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-big");
  await h.confirmSelect(1);
  const bodies = [0, 1, 2, 3].map(bigBody);
  for (const [i, body] of bodies.entries()) {
    h.publish(1, "core-big", body, { chunks: i + 1 });
    await h.expect("basic.ack");
  }
  await h.consume(1, "core-big", { consumerTag: "big", noAck: true });
  expect(await h.deliveries(4)).toEqual(bodies.map((body, i) => ({ consumerTag: "big", deliveryTag: i + 1, redelivered: false, routingKey: "core-big", body })));
});

test("a 64 KiB body taken by reference survives a transaction, a mandatory return and a basic.get", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-big-tx");
  h.send(1, { name: "tx.select" });
  await h.expect("tx.select-ok");
  const kept = bigBody(11);
  h.publish(1, "core-big-tx", kept);
  h.send(1, { name: "tx.commit" });
  await h.expect("tx.commit-ok");
  const returned = bigBody(12);
  h.publish(1, "no-such-queue", returned, { mandatory: true });
  h.send(1, { name: "tx.commit" });
  const ret = await h.next(1);
  expect(ret.method.name).toBe("basic.return");
  expect(new TextDecoder().decode(ret.body)).toBe(returned);
  await h.expect("tx.commit-ok");
  h.send(1, { name: "basic.get", queue: "core-big-tx", noAck: true });
  const got = await h.next(1);
  expect(got.method.name).toBe("basic.get-ok");
  expect(new TextDecoder().decode(got.body)).toBe(kept);
});

test("connection.close is answered with close-ok, the connection leaves the server and its consumers are gone", async () => {
  const h = await connected();
  await h.declareQueue(1, "core-close");
  await h.consume(1, "core-close");
  expect(broker.connections.has(h.connection)).toBe(true);
  h.send(0, { name: "connection.close", replyCode: 200, replyText: "Goodbye", classId: 0, methodId: 0 });
  expect(await h.expect("connection.close-ok", 0)).toEqual({ name: "connection.close-ok" });
  expect(h.goneCalls).toBe(1);
  expect(broker.connections.has(h.connection)).toBe(false);
  expect(h.connection.isOpen).toBe(false);
  // As RabbitMQ, the server leaves closing the socket to the client after close-ok.
  expect(h.socket.ended).toBe(false);
  const other = await connected();
  expect(await other.declareQueue(1, "core-close", { passive: true })).toEqual({ name: "queue.declare-ok", queue: "core-close", messageCount: 0, consumerCount: 0 });
});
