// @cloudamqp/amqp-client against a real Warren process: basic.get (get-ok counts, get-empty,
// redelivered flag) and basic.qos (per consumer, per channel, unlimited). Expected behaviour is
// RabbitMQ 3.x's. Set INTEROP_REFERENCE_URL to run the same file against a RabbitMQ.
import { expect, test } from "bun:test";
import { errorOf, Inbox, interopBroker, publisher, readyCount, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

// --- basic.get -----------------------------------------------------------------------------

test("basic.get returns messages in order with the count of messages remaining", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("get"), { durable: false });
  const pub = await publisher(conn);
  for (const body of ["m1", "m2", "m3"]) await pub.basicPublish("", q.name, body, { messageId: body });
  const seen: [string | null, number | undefined, boolean, string | undefined][] = [];
  for (let i = 0; i < 3; i++) {
    const msg = await ch.basicGet(q.name, { noAck: true });
    expect(msg).not.toBeNull();
    seen.push([msg!.bodyToString(), msg!.messageCount, msg!.redelivered, msg!.properties.messageId]);
  }
  expect(seen).toEqual([
    ["m1", 2, false, "m1"],
    ["m2", 1, false, "m2"],
    ["m3", 0, false, "m3"],
  ]);
});

test("basic.get on an empty queue answers get-empty", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("empty"), { durable: false });
  expect(await ch.basicGet(q.name)).toBeNull();
  // The channel is still open after get-empty.
  await (await publisher(conn)).basicPublish("", q.name, "now");
  expect((await ch.basicGet(q.name))?.bodyToString()).toBe("now");
  expect(await ch.basicGet(q.name)).toBeNull();
});

test("basic.get delivery tags count up per channel", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("gettags"), { durable: false });
  const pub = await publisher(conn);
  for (const body of ["a", "b", "c"]) await pub.basicPublish("", q.name, body);
  const tags: number[] = [];
  for (let i = 0; i < 3; i++) tags.push((await ch.basicGet(q.name, { noAck: i % 2 === 0 }))!.deliveryTag);
  expect(tags).toEqual([1, 2, 3]);
});

test("a requeued message comes back to basic.get with redelivered set", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("reget"), { durable: false });
  const pub = await publisher(conn);
  await pub.basicPublish("", q.name, "first");
  await pub.basicPublish("", q.name, "second");
  const msg = await ch.basicGet(q.name, { noAck: false });
  expect([msg?.bodyToString(), msg?.redelivered, msg?.messageCount]).toEqual(["first", false, 1]);
  // Unacknowledged, it is not counted as ready.
  expect(await readyCount(ch, q.name)).toBe(1);
  await msg!.reject(true);
  const again = await ch.basicGet(q.name, { noAck: false });
  expect([again?.bodyToString(), again?.redelivered, again?.messageCount]).toEqual(["first", true, 1]);
  await again!.ack();
  const next = await ch.basicGet(q.name, { noAck: false });
  expect([next?.bodyToString(), next?.redelivered, next?.messageCount]).toEqual(["second", false, 0]);
});

test("basic.get on a missing queue closes the channel with 404", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const name = uniq("missing");
  expect(await errorOf(ch.basicGet(name))).toBe(`channel ${ch.id} closed: NOT_FOUND - no queue '${name}' in vhost '/' (404)`);
});

// --- basic.qos -----------------------------------------------------------------------------

test("prefetch 2 per consumer holds at most 2 unacked, an ack lets the next one through", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("qos"), { durable: false });
  await ch.basicQos(2);
  const inbox = new Inbox();
  await q.subscribe({ noAck: false }, inbox.push);
  const pub = await publisher(conn);
  for (let i = 1; i <= 5; i++) await pub.basicPublish("", q.name, `m${i}`);
  await inbox.waitFor(2);
  const check = await conn.channel();
  // Three stay ready while two are out: the limit holds.
  expect(await readyCount(check, q.name)).toBe(3);
  expect(inbox.bodies()).toEqual(["m1", "m2"]);

  await inbox.messages[0]!.ack();
  await inbox.waitFor(3);
  expect(await readyCount(check, q.name)).toBe(2);
  expect(inbox.bodies()).toEqual(["m1", "m2", "m3"]);

  // Acking both outstanding (multiple) lets two more through, never more.
  await inbox.messages[2]!.ack(true);
  await inbox.waitFor(5);
  expect(inbox.bodies()).toEqual(["m1", "m2", "m3", "m4", "m5"]);
  expect(await readyCount(check, q.name)).toBe(0);
});

test("per-consumer prefetch applies to each consumer of the channel separately", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const qa = await ch.queue(uniq("qos-a"), { durable: false });
  const qb = await ch.queue(uniq("qos-b"), { durable: false });
  await ch.basicQos(2, 0, false);
  const a = new Inbox();
  const b = new Inbox();
  await qa.subscribe({ noAck: false }, a.push);
  await qb.subscribe({ noAck: false }, b.push);
  const pub = await publisher(conn);
  for (let i = 0; i < 4; i++) {
    await pub.basicPublish("", qa.name, `a${i}`);
    await pub.basicPublish("", qb.name, `b${i}`);
  }
  await a.waitFor(2);
  await b.waitFor(2);
  const check = await conn.channel();
  expect(await readyCount(check, qa.name)).toBe(2);
  expect(await readyCount(check, qb.name)).toBe(2);
  expect(a.bodies()).toEqual(["a0", "a1"]);
  expect(b.bodies()).toEqual(["b0", "b1"]);
});

test("global prefetch is shared by two consumers on one channel", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const qa = await ch.queue(uniq("gqos-a"), { durable: false });
  const qb = await ch.queue(uniq("gqos-b"), { durable: false });
  await ch.basicQos(3, 0, true);
  const inbox = new Inbox();
  await qa.subscribe({ noAck: false }, inbox.push);
  await qb.subscribe({ noAck: false }, inbox.push);
  const pub = await publisher(conn);
  for (let i = 0; i < 5; i++) {
    await pub.basicPublish("", qa.name, `a${i}`);
    await pub.basicPublish("", qb.name, `b${i}`);
  }
  await inbox.waitFor(3);
  const check = await conn.channel();
  // Together the two consumers hold 3, so 7 of the 10 are still ready.
  expect((await readyCount(check, qa.name)) + (await readyCount(check, qb.name))).toBe(7);
  expect(inbox.messages.length).toBe(3);

  // Acking everything so far (multiple) frees the whole window: 3 more, 6 in all.
  await ch.basicAck(inbox.messages[2]!.deliveryTag, true);
  await inbox.waitFor(6);
  expect((await readyCount(check, qa.name)) + (await readyCount(check, qb.name))).toBe(4);
  expect(inbox.messages.length).toBe(6);
  // Each queue's deliveries still arrive in queue order.
  const fromA = inbox.bodies().filter((b) => b.startsWith("a"));
  const fromB = inbox.bodies().filter((b) => b.startsWith("b"));
  expect(fromA).toEqual(fromA.map((_, i) => `a${i}`));
  expect(fromB).toEqual(fromB.map((_, i) => `b${i}`));
});

test("a channel closed by a channel error does not disturb the prefetch of channels opened later", async () => {
  const conn = await connect();
  // Two server-side channel closes (each answered by the client's close-ok).
  for (let i = 0; i < 2; i++) {
    const failing = await conn.channel();
    await errorOf(failing.basicGet(uniq("nowhere")));
  }
  const ch = await conn.channel();
  const q = await ch.queue(uniq("after-error"), { durable: false });
  await ch.basicQos(1, 0, true);
  // More channels opened after the limited one must not reset its limit.
  const others = [await conn.channel(), await conn.channel()];
  const inbox = new Inbox();
  await q.subscribe({ noAck: false }, inbox.push);
  const pub = await publisher(conn);
  for (let i = 0; i < 3; i++) await pub.basicPublish("", q.name, `m${i}`);
  await inbox.waitFor(1);
  expect(await readyCount(others[0]!, q.name)).toBe(2);
  expect(inbox.bodies()).toEqual(["m0"]);
});

test("prefetch 0 means unlimited unacked deliveries", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("qos0"), { durable: false });
  await ch.basicQos(0);
  const inbox = new Inbox();
  await q.subscribe({ noAck: false }, inbox.push);
  const pub = await publisher(conn);
  const sent = Array.from({ length: 300 }, (_, i) => `m${i}`);
  await Promise.all(sent.map((body) => pub.basicPublish("", q.name, body)));
  await inbox.waitFor(300);
  expect(inbox.bodies()).toEqual(sent);
  expect(await readyCount(await conn.channel(), q.name)).toBe(0);
});

test("lowering prefetch does not take back deliveries already made, raising it lets more through", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("qos-change"), { durable: false });
  const pub = await publisher(conn);
  for (let i = 0; i < 6; i++) await pub.basicPublish("", q.name, `m${i}`);
  await ch.basicQos(3, 0, true);
  const inbox = new Inbox();
  await q.subscribe({ noAck: false }, inbox.push);
  await inbox.waitFor(3);
  const check = await conn.channel();
  expect(await readyCount(check, q.name)).toBe(3);
  await ch.basicQos(5, 0, true);
  await inbox.waitFor(5);
  expect(await readyCount(check, q.name)).toBe(1);
  expect(inbox.bodies()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
});

test("prefetch_size other than 0 is refused with 540 NOT_IMPLEMENTED", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  expect(await errorOf(ch.basicQos(10, 1000))).toBe(
    "connection closed: NOT_IMPLEMENTED - prefetch_size!=0 (1000) (540)",
  );
});
