// Quorum queues count returns: x-delivery-count on every redelivery (and on every basic.get), and past x-delivery-limit the
// message is dead-lettered (reason delivery_limit) or dropped, as RabbitMQ 3.x's quorum queues do.
// This file also passes against RabbitMQ with INTEROP_REFERENCE_URL.
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { arrival, errorOf, interopBroker, publisher, readyCount, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();
const QUORUM = { durable: true, autoDelete: false, exclusive: false };

/** basic.get with ack, the message's x-delivery-count (undefined when absent), then nack with requeue. */
async function getAndReturn(ch: Awaited<ReturnType<typeof publisher>>, queue: string): Promise<{ body: string; count: unknown; redelivered: boolean } | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const m = await ch.basicGet(queue, { noAck: false });
    if (m !== null) {
      const seen = { body: m.bodyToString() ?? "", count: m.properties.headers?.["x-delivery-count"], redelivered: m.redelivered };
      await m.nack(true);
      return seen;
    }
    await Bun.sleep(20);
  }
  return null;
}

test("a quorum queue's basic.get carries x-delivery-count, counting each return from 0", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("dl-count");
  await ch.queueDeclare(queue, QUORUM, { "x-queue-type": "quorum" });
  await ch.basicPublish("", queue, "m");
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push(await getAndReturn(ch, queue));
  expect(seen.map((s) => (s?.count === undefined ? undefined : Number(s.count)))).toEqual([0, 1, 2, 3]);
  expect(seen.map((s) => s?.redelivered)).toEqual([false, true, true, true]);
  await ch.queueDelete(queue);
  await conn.close();
});

test("past x-delivery-limit a message is dead-lettered with reason delivery_limit", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("dl-limit");
  const target = uniq("dl-target");
  await ch.queueDeclare(target, { durable: false, autoDelete: false, exclusive: false });
  await ch.queueDeclare(queue, QUORUM, { "x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target });
  await ch.basicPublish("", queue, "retry me");
  // Delivered three times (returns 1 and 2 are within the limit); the third return passes it.
  const deliveries: unknown[] = [];
  const consumer = await conn.channel();
  await consumer.basicQos(1);
  const done = new Promise<void>((resolve) => {
    void consumer.basicConsume(queue, { noAck: false }, (m: AMQPMessage) => {
      deliveries.push(m.properties.headers?.["x-delivery-count"]);
      void m.nack(true);
      if (deliveries.length === 3) resolve();
    });
  });
  await done;
  const dead = await arrival(ch, target);
  expect(dead?.bodyToString()).toBe("retry me");
  const death = (dead?.properties.headers?.["x-death"] as Record<string, unknown>[] | undefined)?.[0];
  expect(death?.["reason"]).toBe("delivery_limit");
  expect(death?.["queue"]).toBe(queue);
  expect(dead?.properties.headers?.["x-first-death-reason"]).toBe("delivery_limit");
  expect(deliveries.map((c) => (c === undefined ? undefined : Number(c)))).toEqual([undefined, 1, 2]);
  expect(await readyCount(ch, queue)).toBe(0);
  await ch.queueDelete(queue);
  await ch.queueDelete(target);
  await conn.close();
});

test("past x-delivery-limit without a dead-letter exchange the message is dropped", async () => {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("dl-drop");
  await ch.queueDeclare(queue, QUORUM, { "x-queue-type": "quorum", "x-delivery-limit": 0 });
  await ch.basicPublish("", queue, "once");
  const first = await getAndReturn(ch, queue);
  expect(first?.body).toBe("once");
  expect(await readyCount(ch, queue)).toBe(0);
  expect(await ch.basicGet(queue, { noAck: true })).toBeNull();
  await ch.queueDelete(queue);
  await conn.close();
});

test("x-delivery-limit is refused on a classic queue", async () => {
  const conn = await connect();
  const ch = await conn.channel();
  const classic = uniq("dl-classic");
  expect(await errorOf(ch.queueDeclare(classic, QUORUM, { "x-delivery-limit": 3 }))).toContain(`invalid arg 'x-delivery-limit' for queue '${classic}' in vhost '/' of queue type rabbit_classic_queue`);
  await conn.close();
});
