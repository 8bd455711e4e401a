// @cloudamqp/amqp-client against a real Warren process: 20,000 messages through publish and
// consume with individual acks arrive exactly once and in order. Set INTEROP_REFERENCE_URL to run
// the same file against a RabbitMQ.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

type AMQPBaseClient = Awaited<ReturnType<AMQPClient["connect"]>>;

let broker: BrokerProcess | undefined;
let url = "";
const open: AMQPBaseClient[] = [];

beforeAll(async () => {
  const reference = process.env["INTEROP_REFERENCE_URL"];
  if (reference !== undefined) url = reference;
  else url = (broker = await startBroker()).url;
});
afterEach(async () => {
  for (const conn of open.splice(0)) if (!conn.closed) await conn.close().catch(() => {});
});
afterAll(async () => {
  await broker?.dispose();
});

// --- helpers -------------------------------------------------------------------------------

async function connect(): Promise<AMQPBaseClient> {
  const conn = await new AMQPClient(url).connect();
  open.push(conn);
  return conn;
}

/** Unique per run, so the file can also run against a long-lived reference broker. */
function uniq(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

async function readyCount(ch: AMQPChannel, queue: string): Promise<number> {
  return (await ch.queueDeclare(queue, { passive: true })).messageCount;
}

const COUNT = 20_000;

test("20,000 confirmed publishes are consumed with acks exactly once and in order", async () => {
  const conn = await connect();
  const consumerConn = await connect();
  const setup = await conn.channel();
  const q = await setup.queue(uniq("bulk"), { durable: false });

  const ch = await consumerConn.channel();
  await ch.basicQos(500);
  const bodies: string[] = [];
  let redelivered = 0;
  let lastTag = 0;
  let tagsInOrder = true;
  let resolveAll: () => void = () => {};
  const allArrived = new Promise<void>((resolve) => (resolveAll = resolve));
  await ch.basicConsume(q.name, { noAck: false }, (msg: AMQPMessage) => {
    bodies.push(msg.bodyToString() ?? "");
    if (msg.redelivered) redelivered++;
    if (msg.deliveryTag !== lastTag + 1) tagsInOrder = false;
    lastTag = msg.deliveryTag;
    void msg.ack();
    if (bodies.length === COUNT) resolveAll();
  });

  const pub = await conn.channel();
  await pub.confirmSelect();
  const confirms: Promise<number>[] = [];
  for (let i = 0; i < COUNT; i++) confirms.push(pub.basicPublish("", q.name, `msg-${i}`));
  const tags = await Promise.all(confirms);
  expect(tags[COUNT - 1]).toBe(COUNT);

  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    allArrived,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out with ${bodies.length} of ${COUNT} delivered`)), 15_000);
    }),
  ]);
  clearTimeout(timer);

  expect(bodies.length).toBe(COUNT);
  let outOfOrder = -1;
  for (let i = 0; i < COUNT && outOfOrder < 0; i++) if (bodies[i] !== `msg-${i}`) outOfOrder = i;
  expect(outOfOrder).toBe(-1);
  expect(redelivered).toBe(0);
  expect(tagsInOrder).toBe(true);

  // Every delivery was acked: closing the consumer's channel puts nothing back.
  await ch.close();
  expect(await readyCount(setup, q.name)).toBe(0);
  expect(await setup.basicGet(q.name)).toBeNull();
  // Nothing else arrived after the last expected message.
  expect(bodies.length).toBe(COUNT);
}, 20_000);

test("20,000 unconfirmed publishes are consumed with batched multiple acks exactly once and in order", async () => {
  const conn = await connect();
  const setup = await conn.channel();
  const q = await setup.queue(uniq("bulk-multi"), { durable: false });

  const ch = await conn.channel();
  await ch.basicQos(1000);
  const bodies: string[] = [];
  let redelivered = 0;
  let resolveAll: () => void = () => {};
  const allArrived = new Promise<void>((resolve) => (resolveAll = resolve));
  await ch.basicConsume(q.name, { noAck: false }, (msg: AMQPMessage) => {
    bodies.push(msg.bodyToString() ?? "");
    if (msg.redelivered) redelivered++;
    // Ack in batches of 100: the prefetch window of 1000 keeps refilling.
    if (bodies.length % 100 === 0) void msg.ack(true);
    if (bodies.length === COUNT) resolveAll();
  });

  const pub = await conn.channel();
  const sends: Promise<number>[] = [];
  for (let i = 0; i < COUNT; i++) sends.push(pub.basicPublish("", q.name, `msg-${i}`));
  await Promise.all(sends);

  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    allArrived,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out with ${bodies.length} of ${COUNT} delivered`)), 15_000);
    }),
  ]);
  clearTimeout(timer);

  let outOfOrder = -1;
  for (let i = 0; i < COUNT && outOfOrder < 0; i++) if (bodies[i] !== `msg-${i}`) outOfOrder = i;
  expect(outOfOrder).toBe(-1);
  expect(redelivered).toBe(0);
  await ch.close();
  expect(await readyCount(setup, q.name)).toBe(0);
  expect(bodies.length).toBe(COUNT);
}, 20_000);
