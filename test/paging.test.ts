// Queues longer than their memory window: the messages behind it live in page files and come back
// in order, exactly once, through requeues, purges, deletes, TTLs, length limits and restarts.
// The broker runs with a window of 8 messages / 64 KiB (test/support/broker_process.ts), so a few
// thousand messages span several 1 MiB blocks and 8 MiB segments.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { AMQPClient, type AMQPChannel, type AMQPMessage } from "@cloudamqp/amqp-client";
import { Inbox, readyCount, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { crash } from "./support/server_crash.ts";

let broker: BrokerProcess;
let conn: AMQPConnection;

beforeAll(async () => {
  broker = await startBroker();
  conn = await new AMQPClient(broker.url).connect();
});

afterAll(async () => {
  await conn.close().catch(() => {});
  await broker.dispose();
});

/** Page files of every shard of a data dir. */
function pageFiles(dataDir: string): string[] {
  const files: string[] = [];
  for (const shard of readdirSync(dataDir).filter((d) => d.startsWith("shard-"))) {
    for (const f of readdirSync(join(dataDir, shard, "pages"))) files.push(`${shard}/${f}`);
  }
  return files;
}

/** Publishes `count` messages "prefix-i" with confirms; every `persistentEvery`-th is persistent. */
async function fill(ch: AMQPChannel, queue: string, count: number, prefix: string, bodyBytes = 600, persistentEvery = 2): Promise<void> {
  const pad = "p".repeat(bodyBytes);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(ch.basicPublish("", queue, `${prefix}-${i}-${pad}`, { deliveryMode: i % persistentEvery === 0 ? 2 : 1 }));
    if (pending.length === 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

const nameOf = (m: AMQPMessage): string => (m.bodyToString() ?? "").split("-").slice(0, 2).join("-");

async function confirmChannel(): Promise<AMQPChannel> {
  const ch = await conn.channel();
  await ch.confirmSelect();
  return ch;
}

test("a consumer draining a paged queue gets every message once, in order, and the page files go", async () => {
  const ch = await confirmChannel();
  const queue = uniq("paged-drain");
  await ch.queueDeclare(queue, { durable: true, autoDelete: false, exclusive: false });
  await fill(ch, queue, 20_000, "m");
  expect(await readyCount(ch, queue)).toBe(20_000);
  expect(pageFiles(broker.dataDir).length).toBeGreaterThan(0);
  const inbox = new Inbox();
  const consumer = await conn.channel();
  await consumer.basicQos(500);
  await consumer.basicConsume(queue, { noAck: false }, (m) => {
    inbox.push(m);
    void m.ack();
  });
  const got = await inbox.waitFor(20_000, 30_000);
  expect(got.map(nameOf)).toEqual(Array.from({ length: 20_000 }, (_, i) => `m-${i}`));
  expect(got.some((m) => m.redelivered)).toBe(false);
  await consumer.close();
  await ch.queueDelete(queue);
  expect(pageFiles(broker.dataDir)).toEqual([]);
});

test("messages requeued into a paged queue go back to its head, redelivered, ahead of the paged ones", async () => {
  const ch = await confirmChannel();
  const queue = uniq("paged-requeue");
  await ch.queueDeclare(queue, { durable: false, autoDelete: false, exclusive: false });
  await fill(ch, queue, 3_000, "r");
  const taken: AMQPMessage[] = [];
  for (let i = 0; i < 20; i++) taken.push((await ch.basicGet(queue, { noAck: false }))!);
  expect(taken.map(nameOf)).toEqual(Array.from({ length: 20 }, (_, i) => `r-${i}`));
  for (const m of taken.reverse()) await m.nack(true);
  const all: string[] = [];
  for (let m = await ch.basicGet(queue, { noAck: true }); m !== null; m = await ch.basicGet(queue, { noAck: true })) {
    all.push(`${nameOf(m)}${m.redelivered ? "*" : ""}`);
  }
  expect(all).toEqual(Array.from({ length: 3_000 }, (_, i) => `r-${i}${i < 20 ? "*" : ""}`));
  await ch.queueDelete(queue);
});

test("purging or deleting a paged queue counts every message and frees its page files", async () => {
  const ch = await confirmChannel();
  const purged = uniq("paged-purge");
  const deleted = uniq("paged-delete");
  await ch.queueDeclare(purged, { durable: true, autoDelete: false, exclusive: false });
  await ch.queueDeclare(deleted, { durable: true, autoDelete: false, exclusive: false });
  await fill(ch, purged, 5_000, "p");
  await fill(ch, deleted, 5_000, "d");
  expect(pageFiles(broker.dataDir).length).toBeGreaterThanOrEqual(2);
  expect((await ch.queuePurge(purged)).messageCount).toBe(5_000);
  expect((await ch.queueDelete(deleted)).messageCount).toBe(5_000);
  expect(pageFiles(broker.dataDir)).toEqual([]);
  // The purged queue works on: new messages, paged again, in order.
  await fill(ch, purged, 100, "again", 600, 1);
  const bodies: string[] = [];
  for (let m = await ch.basicGet(purged, { noAck: true }); m !== null; m = await ch.basicGet(purged, { noAck: true })) bodies.push(nameOf(m));
  expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `again-${i}`));
  await ch.queueDelete(purged);
});

/** Every message left in the queue, taken with no-ack: its name and a * when redelivered. */
async function drainNames(ch: AMQPChannel, queue: string): Promise<string[]> {
  const names: string[] = [];
  for (let m = await ch.basicGet(queue, { noAck: true }); m !== null; m = await ch.basicGet(queue, { noAck: true })) {
    names.push(`${nameOf(m)}${m.redelivered ? "*" : ""}`);
  }
  return names;
}

test("a purge of a queue read back from the journal survives crashes: none of the purged come back, those published after it do", async () => {
  const own = await startBroker();
  try {
    let c = await new AMQPClient(own.url).connect();
    let ch = await c.channel();
    await ch.confirmSelect();
    const queue = "paged-purge-restart";
    await ch.queueDeclare(queue, { durable: true, autoDelete: false, exclusive: false });
    await fill(ch, queue, 6_000, "a", 100, 1);
    await crash(own);
    // After the restart the 6,000 are in the journal only (the queue's recovered reader).
    const again = await startBroker({ dataDir: own.dataDir });
    try {
      c = await new AMQPClient(again.url).connect();
      ch = await c.channel();
      await ch.confirmSelect();
      await ch.basicPublish("", queue, "before-0", { deliveryMode: 2 });
      expect((await ch.queuePurge(queue)).messageCount).toBe(6_001);
      await fill(ch, queue, 50, "after", 100, 1);
      await crash(again);
      const third = await startBroker({ dataDir: own.dataDir });
      try {
        c = await new AMQPClient(third.url).connect();
        ch = await c.channel();
        expect(await drainNames(ch, queue)).toEqual(Array.from({ length: 50 }, (_, i) => `after-${i}`));
        await c.close();
      } finally {
        await third.dispose();
      }
    } finally {
      await again.dispose().catch(() => {});
    }
  } finally {
    await own.dispose().catch(() => {});
  }
}, 90_000);

test("a purge leaves an unacknowledged message of a paged queue, which a crash brings back redelivered", async () => {
  const own = await startBroker();
  try {
    let c = await new AMQPClient(own.url).connect();
    let ch = await c.channel();
    await ch.confirmSelect();
    const queue = "paged-purge-unacked";
    await ch.queueDeclare(queue, { durable: true, autoDelete: false, exclusive: false });
    await fill(ch, queue, 3_000, "u", 100, 1);
    const held = await ch.basicGet(queue, { noAck: false });
    expect(nameOf(held!)).toBe("u-0");
    const other = await c.channel();
    expect((await other.queuePurge(queue)).messageCount).toBe(2_999);
    await other.confirmSelect();
    await other.basicPublish("", queue, "after-0", { deliveryMode: 2 });
    expect(await readyCount(other, queue)).toBe(1);
    await crash(own);
    const again = await startBroker({ dataDir: own.dataDir });
    try {
      c = await new AMQPClient(again.url).connect();
      ch = await c.channel();
      expect(await drainNames(ch, queue)).toEqual(["u-0*", "after-0"]);
      await c.close();
    } finally {
      await again.dispose();
    }
  } finally {
    await own.dispose().catch(() => {});
  }
}, 60_000);

test("TTL and x-max-length apply to paged messages", async () => {
  const ch = await confirmChannel();
  const ttl = uniq("paged-ttl");
  const capped = uniq("paged-capped");
  await ch.queueDeclare(ttl, { durable: false, autoDelete: false, exclusive: false }, { "x-message-ttl": 300 });
  await ch.queueDeclare(capped, { durable: false, autoDelete: false, exclusive: false }, { "x-max-length": 100 });
  await fill(ch, ttl, 2_000, "t");
  await fill(ch, capped, 2_000, "c");
  expect(await readyCount(ch, capped)).toBe(100);
  const first = await ch.basicGet(capped, { noAck: true });
  expect(nameOf(first!)).toBe("c-1900");
  for (let i = 0; i < 50 && (await readyCount(ch, ttl)) > 0; i++) await Bun.sleep(100);
  expect(await readyCount(ch, ttl)).toBe(0);
  await ch.queueDelete(ttl);
  await ch.queueDelete(capped);
});

test("after a crash a paged durable queue has its persistent messages back in order, acked ones gone, transient ones gone", async () => {
  const own = await startBroker();
  try {
    let c = await new AMQPClient(own.url).connect();
    let ch = await c.channel();
    await ch.confirmSelect();
    const queue = "paged-restart";
    await ch.queueDeclare(queue, { durable: true, autoDelete: false, exclusive: false });
    await fill(ch, queue, 6_000, "k", 300, 2); // even ones persistent
    for (let i = 0; i < 10; i++) await (await ch.basicGet(queue, { noAck: false }))!.ack();
    // A confirmed persistent publish after the acks: the shard's journal holds them once it is confirmed.
    await ch.basicPublish("", queue, "marker-x", { deliveryMode: 2 });
    expect(pageFiles(own.dataDir).length).toBeGreaterThan(0);
    await crash(own);
    const again = await startBroker({ dataDir: own.dataDir });
    try {
      c = await new AMQPClient(again.url).connect();
      ch = await c.channel();
      const bodies: string[] = [];
      for (let m = await ch.basicGet(queue, { noAck: true }); m !== null; m = await ch.basicGet(queue, { noAck: true })) bodies.push(nameOf(m));
      const expected = Array.from({ length: 3_000 }, (_, i) => `k-${2 * i}`).filter((_, i) => i >= 5);
      expect(bodies).toEqual([...expected, "marker-x"]);
      await c.close();
    } finally {
      await again.dispose();
    }
  } finally {
    await own.dispose().catch(() => {});
  }
}, 60_000);
