// The shard through its link, in one thread (test/support/shard_harness.ts): the record protocol
// both ways, prefetch credit, settlement, and the flow records that hold publishers back.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Settle } from "../src/link/records.ts";
import { ShardHarness } from "./support/shard_harness.ts";

let h: ShardHarness;

afterEach(() => h.stop());

test("messages published to a queue are delivered in order, within the consumer's prefetch", async () => {
  h = new ShardHarness();
  h.declare(1);
  for (let i = 0; i < 10; i++) h.publish([1], `m${i}`);
  h.consume(1, 7, 3);
  await h.settled();
  expect(h.deliveries.map((d) => d.body)).toEqual(["m0", "m1", "m2"]);
  expect(h.deliveries.every((d) => d.consumerId === 7 && !d.redelivered)).toBe(true);
  expect(await h.counts(1)).toEqual({ ready: 7, unacked: 3 });
  h.link.settle(Settle.ack, h.deliveries.map((d) => d.deliveryId));
  await h.settled();
  expect(h.deliveries.map((d) => d.body)).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
});

test("a requeued delivery comes back at its place, marked redelivered", async () => {
  h = new ShardHarness();
  h.declare(1);
  for (let i = 0; i < 3; i++) h.publish([1], `m${i}`);
  h.consume(1, 1, 1);
  await h.settled();
  h.link.settle(Settle.requeue, [h.deliveries[0]!.deliveryId]);
  await h.settled();
  expect(h.deliveries.map((d) => `${d.body}${d.redelivered ? "*" : ""}`)).toEqual(["m0", "m0*"]);
});

test("a publish to two queues is delivered from each; confirms carry the channel's sequence", async () => {
  h = new ShardHarness();
  h.declare(1);
  h.declare(2);
  h.publish([1, 2], "both", 5);
  h.consume(1, 1, 0, true);
  h.consume(2, 2, 0, true);
  await h.settled();
  expect(h.deliveries.map((d) => `${d.consumerId}:${d.body}`).sort()).toEqual(["1:both", "2:both"]);
  expect(h.confirms).toEqual([{ channelId: 1, seq: 5 }]);
});

test("basic.get takes the head; purge empties the queue and reports the count", async () => {
  h = new ShardHarness();
  h.declare(1);
  for (let i = 0; i < 4; i++) h.publish([1], `m${i}`);
  const got = await new Promise<string | null>((resolve) => {
    h.link.get(1, true, (m) => resolve(m === null ? null : String(m.remaining)));
    h.flush();
  });
  expect(got).toBe("3");
  const purged = await new Promise<number>((resolve) => {
    h.link.purge(1, resolve);
    h.flush();
  });
  expect(purged).toBe(3);
  expect(await h.counts(1)).toEqual({ ready: 0, unacked: 0 });
});

function purge(queueId: number): Promise<number> {
  return new Promise<number>((resolve) => {
    h.link.purge(queueId, resolve);
    h.flush();
  });
}

test("a purge with nothing unacknowledged journals one drop record; with a message unacknowledged, one removal per ready message", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-shard-purge-"));
  try {
    h = new ShardHarness(dir);
    const journal = h.journal!;
    h.declare(1, {}, true);
    h.declare(2, {}, true);
    for (let i = 0; i < 2_000; i++) {
      h.publish([1], `a${i}`, 0, true);
      h.publish([2], `b${i}`, 0, true);
    }
    await h.settled();
    const held = await new Promise<boolean>((resolve) => {
      h.link.get(2, false, (m) => resolve(m !== null));
      h.flush();
    });
    expect(held).toBe(true);
    await h.settled();
    await journal.flush();
    const before_bytes = journal.stats.bytes_written;
    expect(await purge(1)).toBe(2_000);
    await h.settled();
    await journal.flush();
    const dropped_bytes = journal.stats.bytes_written - before_bytes;
    expect(dropped_bytes).toBeGreaterThan(0);
    expect(dropped_bytes).toBeLessThan(128);
    // Queue 2 has a delivery out: its 1,999 ready messages are removed one by one (8 bytes each).
    expect(await purge(2)).toBe(1_999);
    await h.settled();
    await journal.flush();
    expect(journal.stats.bytes_written - before_bytes - dropped_bytes).toBeGreaterThan(1_999 * 8);
    expect(await h.counts(1)).toEqual({ ready: 0, unacked: 0 });
    expect(await h.counts(2)).toEqual({ ready: 0, unacked: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a queue with a consumer enters flow past its backlog mark and leaves it when drained", async () => {
  h = new ShardHarness();
  h.declare(1);
  const slot = h.consume(1, 1, 1);
  for (let i = 0; i < 20_000; i++) {
    h.publish([1], "x");
    if (i % 1000 === 0) h.flush();
  }
  await h.settled();
  expect(h.flow).toEqual([{ queueId: 1, on: true }]);
  // Drain: a no-ack consumer takes everything, and the queue leaves flow.
  h.consume(1, 2, 0, true);
  await h.settled();
  expect(h.flow).toEqual([{ queueId: 1, on: true }, { queueId: 1, on: false }]);
  expect(slot).toBeGreaterThanOrEqual(0);
});

test("a queue without consumers never enters flow, however long it grows", async () => {
  h = new ShardHarness();
  h.declare(1);
  for (let i = 0; i < 20_000; i++) {
    h.publish([1], "x");
    if (i % 1000 === 0) h.flush();
  }
  await h.settled();
  expect(h.flow).toEqual([]);
  expect((await h.counts(1)).ready).toBe(20_000);
});

test("the last consumer's cancel takes a queue out of flow", async () => {
  h = new ShardHarness();
  h.declare(1);
  h.consume(1, 1, 1);
  for (let i = 0; i < 20_000; i++) {
    h.publish([1], "x");
    if (i % 1000 === 0) h.flush();
  }
  await h.settled();
  h.link.cancel(1, 1);
  await h.settled();
  expect(h.flow).toEqual([{ queueId: 1, on: true }, { queueId: 1, on: false }]);
});

test("lowering x-max-length on a long queue trims it in capped passes, down to its newest messages", async () => {
  h = new ShardHarness();
  h.declare(1);
  const n = 3 * 4096 + 500; // more than two passes (DROPS_PER_PASS)
  for (let i = 0; i < n; i++) {
    h.publish([1], `m${i}`);
    if (i % 1000 === 999) await h.settled();
  }
  await h.settled();
  h.link.setLimits(1, { maxLength: 10 });
  h.flush();
  const deadline = Date.now() + 10_000;
  while ((await h.counts(1)).ready > 10 && Date.now() < deadline) await Bun.sleep(5);
  expect(await h.counts(1)).toEqual({ ready: 10, unacked: 0 });
  h.consume(1, 1, 100, true);
  await h.settled();
  expect(h.deliveries.map((d) => d.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${n - 10 + i}`));
});
