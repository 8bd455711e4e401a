// Single active consumer and queue expiry through @cloudamqp/amqp-client, as RabbitMQ 3.x
// behaves (this file also passes against it with INTEROP_REFERENCE_URL).
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { Inbox, interopBroker, publisher, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

test("x-single-active-consumer: only the first consumer gets messages, whatever the priorities; the next takes over when it cancels", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("sac");
  await ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false }, { "x-single-active-consumer": true });
  const first = new Inbox();
  const second = new Inbox();
  const c1 = await conn.channel();
  const c2 = await conn.channel();
  const tag1 = await c1.basicConsume(queue, { noAck: true }, (m: AMQPMessage) => first.push(m));
  await c2.basicConsume(queue, { noAck: true, args: { "x-priority": 10 } }, (m: AMQPMessage) => second.push(m));
  for (let i = 0; i < 20; i++) await ch.basicPublish("", queue, `a${i}`);
  await first.waitFor(20);
  expect(second.messages.length).toBe(0);
  await tag1.cancel();
  for (let i = 0; i < 5; i++) await ch.basicPublish("", queue, `b${i}`);
  await second.waitFor(5);
  expect(second.bodies()).toEqual(["b0", "b1", "b2", "b3", "b4"]);
  expect(first.messages.length).toBe(20);
});

test("x-single-active-consumer: when the active consumer's channel closes, its unacked messages go to the next", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("sac");
  await ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false }, { "x-single-active-consumer": true });
  for (let i = 0; i < 3; i++) await ch.basicPublish("", queue, `m${i}`);
  const c1 = await conn.channel();
  const held = new Inbox();
  await c1.basicConsume(queue, { noAck: false }, (m: AMQPMessage) => held.push(m));
  await held.waitFor(3);
  const next = new Inbox();
  const c2 = await conn.channel();
  await c2.basicConsume(queue, { noAck: true }, (m: AMQPMessage) => next.push(m));
  await c1.close();
  await next.waitFor(3);
  expect(next.bodies()).toEqual(["m0", "m1", "m2"]);
});

test("x-expires: an unused queue is deleted with its messages; a consumer keeps it alive", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const idle = uniq("expires");
  const used = uniq("expires");
  await ch.queueDeclare(idle, { durable: true, autoDelete: false, exclusive: false }, { "x-expires": 300 });
  await ch.queueDeclare(used, { durable: false, autoDelete: false, exclusive: false }, { "x-expires": 300 });
  await ch.basicPublish("", idle, "goes with the queue");
  const c = await conn.channel();
  const tag = await c.basicConsume(used, { noAck: true }, () => {});
  await Bun.sleep(800);
  const probe = await conn.channel();
  const gone = await probe.queueDeclare(idle, { passive: true }).then(() => "exists", (e: Error) => e.message);
  expect(gone).toContain("NOT_FOUND");
  const alive = await conn.channel();
  expect((await alive.queueDeclare(used, { passive: true })).name).toBe(used);
  await tag.cancel();
  await Bun.sleep(800);
  const after = await conn.channel();
  expect(await after.queueDeclare(used, { passive: true }).then(() => "exists", (e: Error) => e.message)).toContain("NOT_FOUND");
});

test("x-expires: a redeclare or a basic.get restarts the clock", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("expires");
  const declare = () => ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false }, { "x-expires": 600 });
  await declare();
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(300);
    if (i % 2 === 0) await declare();
    else await ch.basicGet(queue, { noAck: true });
  }
  expect((await ch.queueDeclare(queue, { passive: true })).name).toBe(queue);
});

test.skipIf(process.env["INTEROP_REFERENCE_URL"] !== undefined)("x-consumer-timeout (RabbitMQ 3.12+): a delivery left unacked past it closes the channel with 406 and is requeued", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("timeout");
  await ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false }, { "x-consumer-timeout": 500 });
  await ch.basicPublish("", queue, "never acked");
  const slow = await conn.channel();
  const held = new Inbox();
  await slow.basicConsume(queue, { noAck: false }, (m: AMQPMessage) => held.push(m));
  await held.waitFor(1);
  for (let i = 0; i < 100 && !slow.closed; i++) await Bun.sleep(50);
  expect(slow.closed).toBe(true);
  const again = await ch.basicGet(queue, { noAck: true });
  expect({ body: again?.bodyToString(), redelivered: again?.redelivered }).toEqual({ body: "never acked", redelivered: true });
}, 15_000);
