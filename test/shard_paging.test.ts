// ShardQueue's memory window and page files, without a broker: what stays in memory, what goes to
// disk, and that everything comes back in order with its fields.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Envelope, QueueEntry } from "../src/shard/message.ts";
import { PAGE_BLOCK_BYTES } from "../src/shard/paged_messages.ts";
import { ShardQueue } from "../src/shard/queue.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function pagingQueue(messages: number, bytes = 1 << 20): { queue: ShardQueue; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "warren-paging-"));
  dirs.push(dir);
  return { queue: new ShardQueue(1, "/\0q", true, {}, false, { messages, bytes, pageDir: dir }), dir };
}

function envelope(id: number, text: string): Envelope {
  const buf = new TextEncoder().encode(text);
  return { id, buf, at: 0, length: buf.length, slab: null, persistent: id % 2 === 0 };
}

const text = (e: QueueEntry): string => new TextDecoder().decode(e.buf.subarray(e.at, e.at + e.length));

test("past its window a queue pages, and takes everything back in order with ids, persistence and expiries", () => {
  const { queue, dir } = pagingQueue(16);
  const results = [];
  for (let i = 1; i <= 50_000; i++) results.push(queue.enqueue(envelope(i, `m${i}-${"x".repeat(i % 40)}`), [], i % 3 === 0 ? 1_000_000 + i : 0));
  expect(results.filter((r) => r === "queued").length).toBe(16);
  expect(queue.ready.length).toBe(16);
  expect(queue.onDisk).toBe(50_000 - 16);
  expect(queue.messageCount).toBe(50_000);
  expect(readdirSync(dir).length).toBeGreaterThan(0);
  for (let i = 1; i <= 50_000; i++) {
    const e = queue.take()!;
    expect(e.id).toBe(i);
    expect(text(e)).toBe(`m${i}-${"x".repeat(i % 40)}`);
    expect(e.persistent).toBe(i % 2 === 0);
    expect(e.expiresAt_ms).toBe(i % 3 === 0 ? 1_000_000 + i : 0);
    expect(queue.ready.length).toBeLessThanOrEqual(16);
  }
  expect(queue.take()).toBeUndefined();
  expect(queue.readyBytes).toBe(0);
  expect(readdirSync(dir)).toEqual([]); // each segment goes once read
});

test("an empty window takes a message larger than the window's bytes itself, so it never waits on disk", () => {
  const { queue } = pagingQueue(1_000, 100);
  expect(queue.enqueue(envelope(1, "y".repeat(500)), [])).toBe("queued");
  expect(queue.enqueue(envelope(2, "z"), [])).toBe("paged");
  expect(queue.take()!.id).toBe(1);
  expect(queue.ready.length).toBe(1); // refilled from disk
  expect(queue.take()!.id).toBe(2);
});

test("a requeued entry goes back in front of the paged ones; purge hands out all, closing the files", () => {
  const { queue, dir } = pagingQueue(4);
  const big = "b".repeat(PAGE_BLOCK_BYTES / 8); // a few per block: the blocks are written out
  for (let i = 1; i <= 40; i++) queue.enqueue(envelope(i, `${i}:${big}`), []);
  const first = queue.take()!;
  const second = queue.take()!;
  queue.requeue(second);
  queue.requeue(first);
  const order: number[] = [];
  const redelivered: boolean[] = [];
  expect(queue.purge((e) => (order.push(e.id), redelivered.push(e.redelivered)))).toBe(40);
  expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  expect(redelivered.slice(0, 3)).toEqual([true, true, false]);
  expect(queue.messageCount).toBe(0);
  expect(readdirSync(dir)).toEqual([]);
});

test("drop-head at x-max-length takes from the head, through the paged part", () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-paging-"));
  dirs.push(dir);
  const queue = new ShardQueue(2, "/\0capped", false, { maxLength: 10 }, false, { messages: 3, bytes: 1 << 20, pageDir: dir });
  const dropped: QueueEntry[] = [];
  for (let i = 1; i <= 100; i++) queue.enqueue(envelope(i, `c${i}`), dropped);
  expect(dropped.map((e) => e.id)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
  const left: number[] = [];
  for (let e = queue.take(); e !== undefined; e = queue.take()) left.push(e.id);
  expect(left).toEqual(Array.from({ length: 10 }, (_, i) => i + 91));
});
