// Message TTL as RabbitMQ does it: the per-message expiration property and the queue's
// x-message-ttl; the shorter one applies, and an expired message is never delivered.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

let broker: BrokerProcess;
let client: AMQPClient;
beforeAll(async () => {
  broker = await startBroker();
  client = new AMQPClient(broker.url);
  await client.connect();
});
afterAll(async () => {
  await client.close();
  await broker.dispose();
});

async function until(check: () => Promise<boolean>, timeout_ms = 3000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

test("a message with an expiration is gone from the queue once it expires", async () => {
  const ch = await client.channel();
  const q = await ch.queue("ttl-per-message", { autoDelete: false });
  await q.publish("short", { expiration: "50" });
  await q.publish("long", { expiration: "60000" });
  await Bun.sleep(120);
  const got = await ch.basicGet(q.name, { noAck: true });
  expect(got?.bodyToString()).toBe("long");
  expect(await ch.basicGet(q.name, { noAck: true })).toBeNull();
  await q.delete();
});

test("x-message-ttl expires messages even with nobody reading, and counts drop", async () => {
  const ch = await client.channel();
  const q = await ch.queue("ttl-queue", {}, { "x-message-ttl": 100 });
  for (let i = 0; i < 10; i++) await q.publish(`m${i}`);
  expect((await ch.queueDeclare(q.name, {}, { "x-message-ttl": 100 })).messageCount).toBe(10);
  await until(async () => (await ch.queueDeclare(q.name, {}, { "x-message-ttl": 100 })).messageCount === 0);
  await q.delete();
});

test("the shorter of the queue TTL and the message expiration applies", async () => {
  const ch = await client.channel();
  const q = await ch.queue("ttl-min", {}, { "x-message-ttl": 60_000 });
  await q.publish("expires-soon", { expiration: "30" });
  await q.publish("stays");
  await Bun.sleep(100);
  expect((await ch.basicGet(q.name, { noAck: true }))?.bodyToString()).toBe("stays");
  await q.delete();
});

test("messages without a TTL never expire", async () => {
  const ch = await client.channel();
  const q = await ch.queue("ttl-none");
  await q.publish("forever");
  await Bun.sleep(150);
  expect((await ch.basicGet(q.name, { noAck: true }))?.bodyToString()).toBe("forever");
  await q.delete();
});
