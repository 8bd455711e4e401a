// @cloudamqp/amqp-client against a real Warren process: 20,000 messages through publish and
// consume with individual acks arrive exactly once and in order. Set INTEROP_REFERENCE_URL to run
// the same file against a RabbitMQ.
import { expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { interopBroker, readyCount, uniq } from "./support/amqp_client_helpers.ts";

const connect = interopBroker();

const COUNT = 20_000;

/** Waits for `arrived`; fails after timeout_ms saying how many of COUNT bodies came. */
async function arrivedWithin(arrived: Promise<void>, bodies: readonly string[], timeout_ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    arrived,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out with ${bodies.length} of ${COUNT} delivered`)), timeout_ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Index of the first of the COUNT bodies that is not `msg-<index>`, or -1 when all are in order. */
function firstOutOfOrder(bodies: readonly string[]): number {
  for (let i = 0; i < COUNT; i++) if (bodies[i] !== `msg-${i}`) return i;
  return -1;
}

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

  await arrivedWithin(allArrived, bodies, 15_000);

  expect(bodies.length).toBe(COUNT);
  expect(firstOutOfOrder(bodies)).toBe(-1);
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

  await arrivedWithin(allArrived, bodies, 15_000);

  expect(firstOutOfOrder(bodies)).toBe(-1);
  expect(redelivered).toBe(0);
  await ch.close();
  expect(await readyCount(setup, q.name)).toBe(0);
  expect(bodies.length).toBe(COUNT);
}, 20_000);

test("500 queued messages of 64 KiB reach a consumer intact and in order", async () => {
  // 32 MiB in one go: the connection writes its output in pieces while the socket backs up.
  const LARGE = 500;
  const BODY_BYTES = 64 * 1024;
  const conn = await connect();
  const ch = await conn.channel();
  const q = await ch.queue(uniq("bulk-large"), { durable: false });
  const body = (i: number): Uint8Array => new Uint8Array(BODY_BYTES).fill(i % 251).fill(255, 0, 4);
  await ch.confirmSelect();
  const sends: Promise<number>[] = [];
  for (let i = 0; i < LARGE; i++) {
    const b = body(i);
    new DataView(b.buffer).setUint32(0, i);
    sends.push(ch.basicPublish("", q.name, b));
  }
  await Promise.all(sends);
  expect(await readyCount(ch, q.name)).toBe(LARGE);

  const mismatches: number[] = [];
  let received = 0;
  let resolveAll: () => void = () => {};
  const allArrived = new Promise<void>((resolve) => (resolveAll = resolve));
  await ch.basicQos(LARGE);
  await ch.basicConsume(q.name, { noAck: true }, (msg: AMQPMessage) => {
    const b = msg.body!;
    const index = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
    const expected = body(index);
    new DataView(expected.buffer).setUint32(0, index);
    if (index !== received || b.byteLength !== BODY_BYTES || !Buffer.from(b).equals(Buffer.from(expected))) mismatches.push(received);
    if (++received === LARGE) resolveAll();
  });
  await Promise.race([allArrived, Bun.sleep(15_000)]);
  expect({ received, mismatches }).toEqual({ received: LARGE, mismatches: [] });
  await conn.close();
}, 20_000);
