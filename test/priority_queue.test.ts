// Priority queues (x-max-priority) through @cloudamqp/amqp-client: higher priorities first, FIFO
// within one, a priority above the maximum counts as the maximum and none as 0; requeued messages
// go back to their own priority; consumers see the same order as basic.get.
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { drain, Inbox, interopBroker, publisher, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

async function filled(max: number, messages: [string, number | undefined][]): Promise<{ queue: string; ch: Awaited<ReturnType<typeof publisher>> }> {
  const conn = await connect();
  const ch = await publisher(conn);
  const queue = uniq("prio");
  await ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false }, { "x-max-priority": max });
  for (const [body, priority] of messages) await ch.basicPublish("", queue, body, priority === undefined ? {} : { priority });
  return { queue, ch };
}

test("higher priorities are delivered first, FIFO within a priority, none counting as 0", async () => {
  const { queue, ch } = await filled(10, [["a1", 1], ["b", undefined], ["c7", 7], ["d1", 1], ["e10", 10], ["f0", 0], ["g7", 7]]);
  expect(await drain(ch, queue)).toEqual(["e10", "c7", "g7", "a1", "d1", "b", "f0"]);
});

test("a priority above the queue's maximum counts as the maximum", async () => {
  const { queue, ch } = await filled(3, [["low", 1], ["max", 3], ["above", 200], ["max2", 3]]);
  expect(await drain(ch, queue)).toEqual(["max", "above", "max2", "low"]);
});

test("a requeued message goes back to the head of its own priority, marked redelivered", async () => {
  const { queue, ch } = await filled(5, [["hi1", 5], ["hi2", 5], ["lo", 1]]);
  const first = await ch.basicGet(queue, { noAck: false });
  expect(first?.bodyToString()).toBe("hi1");
  await first!.nack(true);
  expect(await drain(ch, queue)).toEqual(["hi1*", "hi2", "lo"]);
});

test("a consumer receives a backlog in priority order", async () => {
  const bodies: [string, number][] = [];
  for (let i = 0; i < 300; i++) bodies.push([`m${i}`, i % 3]);
  const { queue, ch } = await filled(2, bodies);
  const inbox = new Inbox();
  await ch.basicConsume(queue, { noAck: true }, (msg: AMQPMessage) => inbox.push(msg));
  await inbox.waitFor(300);
  const expected = [2, 1, 0].flatMap((p) => bodies.filter(([, q]) => q === p).map(([b]) => b));
  expect(inbox.bodies()).toEqual(expected);
});

test("a queue declared with 255 levels works like any other for messages without a priority", async () => {
  const { queue, ch } = await filled(255, [["x", undefined], ["y", undefined], ["z", 255]]);
  expect(await drain(ch, queue)).toEqual(["z", "x", "y"]);
});
