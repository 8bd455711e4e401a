// @cloudamqp/amqp-client against a real Warren process: basic.consume / basic.cancel, consumer
// tags, round-robin dispatch, exclusive and no-ack consumers, server-sent cancels, consumer
// priorities. Expected codes and texts are RabbitMQ 3.x's. Set INTEROP_REFERENCE_URL to run
// the same file against a RabbitMQ instead of a Warren.
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { errorOf, Inbox, interopBroker, publisher, readyCount, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

// --- tests ---------------------------------------------------------------------------------

test("consume with a given tag delivers under that tag", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("tagged"), { durable: false });
  const inbox = new Inbox();
  const consumer = await q.subscribe({ tag: "my-consumer", noAck: true }, inbox.push);
  expect(consumer.tag).toBe("my-consumer");
  await (await publisher(conn)).basicPublish("", q.name, "hello");
  const [msg] = await inbox.waitFor(1);
  expect(msg!.consumerTag).toBe("my-consumer");
  expect(msg!.bodyToString()).toBe("hello");
  expect(msg!.routingKey).toBe(q.name);
  expect(msg!.exchange).toBe("");
  expect(msg!.redelivered).toBe(false);
});

test("consume without a tag gets a server-generated amq.ctag- tag", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("gentag"), { durable: false });
  const inbox = new Inbox();
  const a = await q.subscribe({ noAck: true }, inbox.push);
  const b = await q.subscribe({ noAck: true }, inbox.push);
  expect(a.tag).toMatch(/^amq\.ctag-[A-Za-z0-9_-]{22}$/);
  expect(b.tag).toMatch(/^amq\.ctag-[A-Za-z0-9_-]{22}$/);
  expect(a.tag).not.toBe(b.tag);
  await (await publisher(conn)).basicPublish("", q.name, "x");
  const [msg] = await inbox.waitFor(1);
  expect([a.tag, b.tag]).toContain(msg!.consumerTag);
});

test("consume-ok is sent before the first delivery of messages already in the queue", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("early"), { durable: false });
  const pub = await publisher(conn);
  for (const body of ["a", "b", "c"]) await pub.basicPublish("", q.name, body);
  expect(await readyCount(ch, q.name)).toBe(3);

  // Record the order in which the client's frame parser sees consume-ok and the deliveries.
  const events: string[] = [];
  const resolveRPC = ch.resolveRPC.bind(ch);
  ch.resolveRPC = (value?: unknown) => {
    events.push(`ok:${String(value)}`);
    return resolveRPC(value);
  };
  const onMessageReady = ch.onMessageReady.bind(ch);
  ch.onMessageReady = (msg: AMQPMessage) => {
    events.push(`deliver:${msg.bodyToString()}`);
    onMessageReady(msg);
  };
  const inbox = new Inbox();
  await q.subscribe({ tag: "early-bird", noAck: false }, inbox.push);
  await inbox.waitFor(3);
  expect(events).toEqual(["ok:early-bird", "deliver:a", "deliver:b", "deliver:c"]);
  expect(inbox.bodies()).toEqual(["a", "b", "c"]);
});

test("three consumers of one queue receive messages in exact round-robin", async () => {
  const conn = await connect();
  const setup = await conn.channel();
  const q = await setup.queue(uniq("rr"), { durable: false });
  const owner = new Map<string, string>();
  const inbox = new Inbox();
  const tags: string[] = [];
  for (let i = 0; i < 3; i++) {
    const ch = await conn.channel();
    const consumer = await ch.basicConsume(q.name, { tag: `rr-${i}`, noAck: false }, (msg: AMQPMessage) => {
      owner.set(msg.bodyToString() ?? "", msg.consumerTag);
      inbox.push(msg);
      void msg.ack();
    });
    tags.push(consumer.tag);
  }
  const pub = await publisher(conn);
  for (let i = 0; i < 12; i++) await pub.basicPublish("", q.name, `m${i}`);
  await inbox.waitFor(12);
  const sequence = Array.from({ length: 12 }, (_, i) => owner.get(`m${i}`));
  // The first consumer to subscribe gets the first message, then strictly in turn.
  expect(sequence).toEqual(Array.from({ length: 12 }, (_, i) => tags[i % 3]));
});

test("an exclusive consumer makes a second consumer fail with 403 in exclusive use", async () => {
  const conn = await connect();
  const ch1 = await conn.channel();
  const q = await ch1.queue(uniq("excl"), { durable: false });
  const inbox = new Inbox();
  await q.subscribe({ exclusive: true, noAck: true }, inbox.push);
  const ch2 = await conn.channel();
  expect(await errorOf(ch2.basicConsume(q.name, {}, () => {}))).toBe(
    `channel ${ch2.id} closed: ACCESS_REFUSED - queue '${q.name}' in vhost '/' in exclusive use (403)`,
  );
  expect(ch2.closed).toBe(true);
  // Only that channel closed; the exclusive consumer keeps receiving.
  expect(conn.closed).toBe(false);
  await (await publisher(conn)).basicPublish("", q.name, "still mine");
  expect((await inbox.waitFor(1))[0]!.bodyToString()).toBe("still mine");
});

test("an exclusive consume on a queue that already has a consumer fails with 403", async () => {
  const conn = await connect();
  const ch1 = await conn.channel();
  const q = await ch1.queue(uniq("excl-late"), { durable: false });
  await q.subscribe({ noAck: true }, () => {});
  const ch2 = await conn.channel();
  expect(await errorOf(ch2.basicConsume(q.name, { exclusive: true }, () => {}))).toBe(
    `channel ${ch2.id} closed: ACCESS_REFUSED - queue '${q.name}' in vhost '/' in exclusive use (403)`,
  );
});

test("a no-ack consumer's messages are gone from the queue once delivered", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("noack"), { durable: false });
  const inbox = new Inbox();
  await q.subscribe({ noAck: true }, inbox.push);
  const pub = await publisher(conn);
  for (const body of ["1", "2", "3"]) await pub.basicPublish("", q.name, body);
  const msgs = await inbox.waitFor(3);
  expect(msgs.map((m) => m.bodyToString())).toEqual(["1", "2", "3"]);
  expect(msgs.map((m) => m.deliveryTag)).toEqual([1, 2, 3]);
  // Nothing is unacknowledged: closing the channel requeues nothing.
  await ch.close();
  const check = await conn.channel();
  expect(await readyCount(check, q.name)).toBe(0);
  expect(await check.basicGet(q.name)).toBeNull();
});

test("reusing a consumer tag on one channel closes the connection with 530 NOT_ALLOWED", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("dup"), { durable: false });
  await q.subscribe({ tag: "twice", noAck: true }, () => {});
  expect(await errorOf(ch.basicConsume(q.name, { tag: "twice" }, () => {}))).toBe(
    "connection closed: NOT_ALLOWED - attempt to reuse consumer tag 'twice' (530)",
  );
  expect(conn.closed).toBe(true);
});

test("the same consumer tag on two channels is allowed", async () => {
  const conn = await connect();
  const ch1 = await conn.channel();
  const ch2 = await conn.channel();
  const q = await ch1.queue(uniq("sametag"), { durable: false });
  const a = await ch1.basicConsume(q.name, { tag: "shared" }, () => {});
  const b = await ch2.basicConsume(q.name, { tag: "shared" }, () => {});
  expect([a.tag, b.tag]).toEqual(["shared", "shared"]);
  expect((await ch1.queueDeclare(q.name, { passive: true })).consumerCount).toBe(2);
});

test("basic.cancel stops deliveries to that consumer", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("cancel"), { durable: false });
  const inbox = new Inbox();
  const consumer = await q.subscribe({ noAck: true }, inbox.push);
  const pub = await publisher(conn);
  await pub.basicPublish("", q.name, "before");
  await inbox.waitFor(1);
  await consumer.cancel();
  expect(ch.consumers.has(consumer.tag)).toBe(false);
  expect((await ch.queueDeclare(q.name, { passive: true })).consumerCount).toBe(0);
  await pub.basicPublish("", q.name, "after");
  // The message stayed in the queue rather than going to the cancelled consumer.
  const got = await ch.basicGet(q.name);
  expect(got?.bodyToString()).toBe("after");
  expect(got?.messageCount).toBe(0);
  expect(inbox.bodies()).toEqual(["before"]);
});

test("cancelling an unknown consumer tag is answered with cancel-ok", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.basicCancel("never-existed");
  expect(ch.closed).toBe(false);
  await ch.basicQos(0);
});

test("deleting a queue sends basic.cancel to its consumers", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("deleted"), { durable: false });
  const consumer = await q.subscribe({ noAck: true }, () => {});
  const other = await (await connect()).channel();
  await other.queueDelete(q.name);
  expect(await errorOf(consumer.wait(5000))).toBe("Consumer cancelled by the server");
  expect(ch.consumers.has(consumer.tag)).toBe(false);
  // The consumer's channel stays open and usable.
  expect(ch.closed).toBe(false);
  await ch.basicQos(1);
});

test("a higher priority consumer gets messages while it has credit, then the lower one", async () => {
  const conn = await connect();
  const setup = await conn.channel();
  const q = await setup.queue(uniq("prio"), { durable: false });
  const low = new Inbox();
  const high = new Inbox();
  const lowCh = await conn.channel();
  await lowCh.basicConsume(q.name, { tag: "low", noAck: false, args: { "x-priority": 1 } }, low.push);
  const highCh = await conn.channel();
  await highCh.basicQos(2);
  await highCh.basicConsume(q.name, { tag: "high", noAck: false, args: { "x-priority": 10 } }, high.push);

  const pub = await publisher(conn);
  for (let i = 1; i <= 5; i++) await pub.basicPublish("", q.name, `m${i}`);
  await high.waitFor(2);
  await low.waitFor(3);
  expect(high.bodies()).toEqual(["m1", "m2"]);
  expect(low.bodies()).toEqual(["m3", "m4", "m5"]);

  // Credit back: the high priority consumer is preferred again.
  await highCh.basicAck(high.messages[0]!.deliveryTag);
  await pub.basicPublish("", q.name, "m6");
  await high.waitFor(3);
  expect(high.bodies()).toEqual(["m1", "m2", "m6"]);
  expect(low.messages.length).toBe(3);
});

test("a non-integer x-priority is refused with 406", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("badprio"), { durable: false });
  expect(await errorOf(ch.basicConsume(q.name, { args: { "x-priority": "high" } }, () => {}))).toBe(
    `channel ${ch.id} closed: PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q.name}' in vhost '/': "expected integer, got longstr" (406)`,
  );
});

test("consumer arguments are checked before the queue's exclusive use", async () => {
  const conn = await connect();
  const ch1 = await conn.channel();
  const q = await ch1.queue(uniq("badprio-excl"), { durable: false });
  await q.subscribe({ exclusive: true, noAck: true }, () => {});
  const ch2 = await conn.channel();
  expect(await errorOf(ch2.basicConsume(q.name, { args: { "x-priority": true } }, () => {}))).toBe(
    `channel ${ch2.id} closed: PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q.name}' in vhost '/': "expected integer, got bool" (406)`,
  );
});
