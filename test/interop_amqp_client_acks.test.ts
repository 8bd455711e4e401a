// @cloudamqp/amqp-client against a real Warren process: basic.ack / nack / reject (single and
// multiple), delivery-tag errors, requeue at the original place, unacked deliveries returning
// when their channel or connection closes, basic.recover. Expected codes, texts and orders are
// RabbitMQ 3.x's. Set INTEROP_REFERENCE_URL to run the same file against a RabbitMQ.
import { expect, test } from "bun:test";
import { drain, errorOf, Inbox, interopBroker, publisher, readyCount, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

async function queueWith(conn: AMQPConnection, prefix: string, bodies: string[]): Promise<string> {
  const ch = await conn.channel();
  const name = (await ch.queue(uniq(prefix), { durable: false })).name;
  const pub = await publisher(conn);
  for (const body of bodies) await pub.basicPublish("", name, body);
  await pub.close();
  await ch.close();
  return name;
}

// --- settling ------------------------------------------------------------------------------

test("acked deliveries are gone: closing the channel returns nothing", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "ack", ["a", "b", "c"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  const msgs = await inbox.waitFor(3);
  expect(msgs.map((m) => m.deliveryTag)).toEqual([1, 2, 3]);
  for (const m of msgs) await m.ack();
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual([]);
});

test("ack multiple settles every delivery up to the tag, the rest return on close", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "ackmulti", ["m1", "m2", "m3", "m4", "m5"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  const msgs = await inbox.waitFor(5);
  await ch.basicAck(msgs[2]!.deliveryTag, true);
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual(["m4*", "m5*"]);
});

test("nack multiple with requeue redelivers all of them in order, marked redelivered", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "nackmulti", ["m1", "m2", "m3", "m4"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  const first = await inbox.waitFor(4);
  expect(first.map((m) => m.redelivered)).toEqual([false, false, false, false]);
  await ch.basicNack(first[3]!.deliveryTag, true, true);
  const all = await inbox.waitFor(8);
  const again = all.slice(4);
  expect(again.map((m) => m.bodyToString())).toEqual(["m1", "m2", "m3", "m4"]);
  expect(again.map((m) => m.redelivered)).toEqual([true, true, true, true]);
  expect(again.map((m) => m.deliveryTag)).toEqual([5, 6, 7, 8]);
  await ch.basicAck(8, true);
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual([]);
});

test("nack multiple without requeue drops them", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "nackdrop", ["m1", "m2", "m3"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  await inbox.waitFor(3);
  await ch.basicNack(2, false, true);
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual(["m3*"]);
});

test("reject with requeue=false drops the message", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "rejectdrop", ["gone", "kept"]);
  const ch = await conn.channel();
  const msg = await ch.basicGet(q, { noAck: false });
  expect(msg?.bodyToString()).toBe("gone");
  await msg!.reject(false);
  expect(await readyCount(ch, q)).toBe(1);
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual(["kept"]);
});

test("ack of an unknown delivery tag closes the channel with 406 unknown delivery tag 99", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  void ch.basicAck(99);
  expect(await errorOf(ch.basicQos(0))).toBe(`channel ${ch.id} closed: PRECONDITION_FAILED - unknown delivery tag 99 (406)`);
  expect(ch.closed).toBe(true);
  // A channel error: the connection carries on.
  expect(conn.closed).toBe(false);
  const other = await conn.channel();
  await other.basicQos(0);
});

test("acking the same delivery twice closes the channel with 406", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "double", ["once"]);
  const ch = await conn.channel();
  const msg = await ch.basicGet(q, { noAck: false });
  await msg!.ack();
  void msg!.ack();
  expect(await errorOf(ch.basicQos(0))).toBe(
    `channel ${ch.id} closed: PRECONDITION_FAILED - unknown delivery tag ${msg!.deliveryTag} (406)`,
  );
});

test("reject and nack of unknown tags close the channel with 406 naming the tag", async () => {
  const conn = await connect();
  const reject = await conn.channel();
  void reject.basicReject(7, true);
  expect(await errorOf(reject.basicQos(0))).toBe(`channel ${reject.id} closed: PRECONDITION_FAILED - unknown delivery tag 7 (406)`);
  const nack = await conn.channel();
  void nack.basicNack(5, true, true);
  expect(await errorOf(nack.basicQos(0))).toBe(`channel ${nack.id} closed: PRECONDITION_FAILED - unknown delivery tag 5 (406)`);
});

test("ack of tag 0 with multiple on a channel with nothing outstanding is accepted", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  await ch.basicAck(0, true);
  await ch.basicQos(0);
  expect(ch.closed).toBe(false);
});

test("acking a no-ack delivery's tag is an unknown delivery tag", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "noacktag", ["x"]);
  const ch = await conn.channel();
  const msg = await ch.basicGet(q, { noAck: true });
  expect(msg?.deliveryTag).toBe(1);
  void ch.basicAck(1);
  expect(await errorOf(ch.basicQos(0))).toBe(`channel ${ch.id} closed: PRECONDITION_FAILED - unknown delivery tag 1 (406)`);
});

// --- requeue -------------------------------------------------------------------------------

test("requeued messages go back to their original place, marked redelivered", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "place", ["m1", "m2", "m3", "m4", "m5", "m6"]);
  const ch = await conn.channel();
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await ch.basicGet(q, { noAck: false }))!);
  expect(got.map((m) => m.bodyToString())).toEqual(["m1", "m2", "m3", "m4"]);
  // Requeued out of order and one by one; the queue still ends up in publish order.
  await ch.basicReject(got[3]!.deliveryTag, true);
  await ch.basicReject(got[1]!.deliveryTag, true);
  await ch.basicNack(got[2]!.deliveryTag, true, false);
  const rest: string[] = [];
  for (;;) {
    const msg = await ch.basicGet(q, { noAck: true });
    if (msg === null) break;
    rest.push(`${msg.bodyToString()}${msg.redelivered ? "*" : ""}:${msg.messageCount}`);
  }
  expect(rest).toEqual(["m2*:4", "m3*:3", "m4*:2", "m5:1", "m6:0"]);
  // m1 is still unacknowledged; it comes back when the channel closes.
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual(["m1*"]);
});

test("a message rejected with requeue by a consumer is redelivered before newer ones", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "front", ["m1", "m2", "m3"]);
  const ch = await conn.channel();
  await ch.basicQos(1);
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, (msg) => {
    inbox.push(msg);
    // Reject the first delivery of m1 once, ack everything else.
    if (msg.bodyToString() === "m1" && !msg.redelivered) void msg.reject(true);
    else void msg.ack();
  });
  const msgs = await inbox.waitFor(4);
  expect(msgs.map((m) => `${m.bodyToString()}${m.redelivered ? "*" : ""}`)).toEqual(["m1", "m1*", "m2", "m3"]);
});

test("unacked deliveries return to the queue in order when their channel closes", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "chclose", ["m1", "m2", "m3", "m4"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  const msgs = await inbox.waitFor(4);
  await msgs[1]!.ack();
  const check = await conn.channel();
  expect(await readyCount(check, q)).toBe(0);
  await ch.close();
  expect(await drain(check, q)).toEqual(["m1*", "m3*", "m4*"]);
});

test("unacked deliveries return to the queue when their connection closes", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "connclose", ["m1", "m2", "m3"]);
  const consumerConn = await connect();
  const ch = await consumerConn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { noAck: false }, inbox.push);
  await inbox.waitFor(3);
  await consumerConn.close();
  // Waiting on the other connection: a consumer gets them back once the close was processed.
  const again = new Inbox();
  await (await conn.channel()).basicConsume(q, { noAck: true }, again.push);
  const msgs = await again.waitFor(3);
  expect(msgs.map((m) => `${m.bodyToString()}${m.redelivered ? "*" : ""}`)).toEqual(["m1*", "m2*", "m3*"]);
});

test("basic.recover with requeue redelivers the unacked deliveries, marked redelivered", async () => {
  const conn = await connect();
  const q = await queueWith(conn, "recover", ["m1", "m2", "m3"]);
  const ch = await conn.channel();
  const inbox = new Inbox();
  await ch.basicConsume(q, { tag: "recoverer", noAck: false }, inbox.push);
  const first = await inbox.waitFor(3);
  await first[1]!.ack();
  await ch.basicRecover(true);
  const all = await inbox.waitFor(5);
  const again = all.slice(3);
  expect(again.map((m) => `${m.bodyToString()}${m.redelivered ? "*" : ""}`)).toEqual(["m1*", "m3*"]);
  expect(again.map((m) => m.consumerTag)).toEqual(["recoverer", "recoverer"]);
  expect(again.map((m) => m.deliveryTag)).toEqual([4, 5]);
  // The old tags were settled by the recover; the new ones are live.
  await ch.basicAck(5, true);
  await ch.close();
  expect(await drain(await conn.channel(), q)).toEqual([]);
});
