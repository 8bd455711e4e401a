// ShardQueue's memory window and page files, without a broker: what stays in memory, what goes to
// disk, and that everything comes back in order with its fields.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Envelope, QueueEntry } from "../src/shard/message.ts";
import { FIRST_BLOCK_BYTES, PAGE_BLOCK_BYTES, PagedMessages } from "../src/shard/paged_messages.ts";
import { ReadyQueue } from "../src/shard/ready_queue.ts";
import { DROPS_PER_PASS, ShardQueue } from "../src/shard/queue.ts";
import type { RecoveredMessages, RecoveredSink } from "../src/journal/journal.ts";

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

/** Stands in for the journal's reader: `count` recovered messages "r1".."rN" (ids 1..N). */
function fakeRecovered(count: number): RecoveredMessages {
  let next = 1;
  const fake = {
    count,
    get estimatedBytes() {
      return fake.count * 2;
    },
    take(max: number, each: RecoveredSink): number {
      let taken = 0;
      for (; taken < max && fake.count > 0; taken++, fake.count--) {
        const buf = new TextEncoder().encode(`r${next}`);
        each(next++, buf, 0, buf.length, false);
      }
      return taken;
    },
    close(): void {
      fake.count = 0;
    },
  };
  return fake as unknown as RecoveredMessages;
}

test("a window of one message and no bytes still takes the head from disk, trims and keeps FIFO", () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-paging-"));
  dirs.push(dir);
  const queue = new ShardQueue(3, "/\0tiny", true, {}, false, { messages: 1, bytes: 0, pageDir: dir });
  queue.adopt(fakeRecovered(6), 0);
  expect(queue.ready.length).toBe(1); // an empty window takes one whatever its byte limit
  const dropped: QueueEntry[] = [];
  queue.setLimits({ maxLength: 3 }, dropped); // must not spin on an empty window
  expect(dropped.map((e) => e.id)).toEqual([1, 2, 3]);
  queue.setLimits({}, dropped);
  // A new message goes behind the recovered ones still on disk, not into the window ahead of them.
  expect(queue.enqueue(envelope(100, "n100"), [])).toBe("paged");
  expect(queue.enqueue(envelope(101, "n101"), [])).toBe("paged");
  const order: string[] = [];
  for (let e = queue.take(); e !== undefined; e = queue.take()) order.push(text(e));
  expect(order).toEqual(["r4", "r5", "r6", "n100", "n101"]);
  expect(queue.messageCount).toBe(0);
});

test("expired heads are dropped through a window of one message", () => {
  const { queue } = pagingQueue(1, 0);
  for (let i = 1; i <= 20; i++) queue.enqueue(envelope(i, `e${i}`), [], i <= 15 ? 10 : 0);
  const dropped: QueueEntry[] = [];
  queue.dropExpired(1_000, dropped);
  expect(dropped.map((e) => e.id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  expect(queue.messageCount).toBe(5);
  expect(queue.take()!.id).toBe(16);
});

test("page blocks start at 64 KiB and double to 1 MiB; a drained or closed queue holds no block", () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-paging-"));
  dirs.push(dir);
  const paged = new PagedMessages(dir, "q9");
  paged.append(envelope(1, "one"), 1, false, 0, 0);
  expect(paged.memoryBytes).toBe(FIRST_BLOCK_BYTES); // a queue just past its window
  const body = "s".repeat(1000);
  for (let i = 2; i <= 5_000; i++) paged.append(envelope(i, body), i, false, 0, 0);
  // The head (first, 64 KiB) block, the tail and at most one 1 MiB spare.
  expect(paged.memoryBytes).toBeLessThanOrEqual(FIRST_BLOCK_BYTES + 2 * PAGE_BLOCK_BYTES);
  const ready = new ReadyQueue();
  const ids: number[] = [];
  while (paged.count > 0) {
    paged.refill(ready, 100, 1 << 20);
    for (let e = ready.shift(); e !== undefined; e = ready.shift()) ids.push(e.id);
  }
  expect(ids).toEqual(Array.from({ length: 5_000 }, (_, i) => i + 1));
  expect(paged.memoryBytes).toBe(0); // drained: the spare went too
  expect(readdirSync(dir)).toEqual([]);
  paged.append(envelope(6_000, "again"), 6_000, false, 0, 0);
  expect(paged.memoryBytes).toBe(FIRST_BLOCK_BYTES);
  for (let i = 6_001; i <= 9_000; i++) paged.append(envelope(i, body), i, false, 0, 0);
  paged.close();
  expect(paged.memoryBytes).toBe(0);
  expect(readdirSync(dir)).toEqual([]);
});

test("expiry and a lowered limit take at most DROPS_PER_PASS entries a pass, and report that more are due", () => {
  const { queue } = pagingQueue(16);
  const n = 2 * DROPS_PER_PASS + 100;
  for (let i = 1; i <= n; i++) queue.enqueue(envelope(i, `t${i}`), [], i <= n - 50 ? 10 : 0);
  const dropped: QueueEntry[] = [];
  expect(queue.dropExpired(1_000, dropped)).toBe(true);
  expect(dropped.length).toBe(DROPS_PER_PASS);
  expect(queue.dropExpired(1_000, dropped)).toBe(true);
  expect(queue.dropExpired(1_000, dropped)).toBe(false);
  expect(dropped.map((e) => e.id)).toEqual(Array.from({ length: n - 50 }, (_, i) => i + 1));
  dropped.length = 0;
  for (let i = n + 1; i <= n + 2 * DROPS_PER_PASS; i++) queue.enqueue(envelope(i, `t${i}`), []);
  expect(queue.setLimits({ maxLength: 5 }, dropped)).toBe(true);
  expect(dropped.length).toBe(DROPS_PER_PASS);
  // A publish meanwhile drops a pass's worth too and is kept: the queue stays over, trimmed later.
  expect(queue.enqueue(envelope(99_999, "late"), dropped)).toBe("paged");
  expect(queue.overLimit).toBe(true);
  while (queue.trim(dropped));
  expect(queue.messageCount).toBe(5);
  const left: number[] = [];
  for (let e = queue.take(); e !== undefined; e = queue.take()) left.push(e.id);
  expect(left).toEqual([n + 2 * DROPS_PER_PASS - 3, n + 2 * DROPS_PER_PASS - 2, n + 2 * DROPS_PER_PASS - 1, n + 2 * DROPS_PER_PASS, 99_999]);
});

/** Runs `fn` with stderr captured (the log writes there). */
function withStderr<T>(fn: () => T): { value: T; lines: string[] } {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { value: fn(), lines };
  } finally {
    process.stderr.write = original;
  }
}

test("page files that cannot be written: the queue keeps its messages in memory, logs once, loses none", () => {
  const dir = mkdtempSync(join(tmpdir(), "warren-paging-"));
  dirs.push(dir);
  writeFileSync(join(dir, "file"), "not a directory");
  const queue = new ShardQueue(4, "/\0nodisk", true, {}, false, { messages: 16, bytes: 1 << 20, pageDir: join(dir, "file", "pages") });
  const body = "w".repeat(500);
  const { lines } = withStderr(() => {
    for (let i = 1; i <= 10_000; i++) queue.enqueue(envelope(i, `${i}:${body}`), []);
  });
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain("write failed");
  expect(queue.messageCount).toBe(10_000);
  for (let i = 1; i <= 10_000; i++) expect(queue.take()!.id).toBe(i);
  expect(queue.take()).toBeUndefined();
});

test("a page file that does not read back loses its block's messages, logged, and the queue goes on", () => {
  const { queue, dir } = pagingQueue(16);
  const body = "r".repeat(500);
  for (let i = 1; i <= 40_000; i++) queue.enqueue(envelope(i, `${i}:${body}`), []); // ~20 MiB: three segments
  const segments = readdirSync(dir).sort();
  expect(segments.length).toBeGreaterThanOrEqual(3);
  truncateSync(join(dir, "q1.1"), 0); // the second segment's blocks are gone
  const ids: number[] = [];
  const { lines } = withStderr(() => {
    for (let e = queue.take(); e !== undefined; e = queue.take()) ids.push(e.id);
  });
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain("messages lost");
  expect(ids.length).toBeLessThan(40_000);
  expect(ids[0]).toBe(1);
  expect(ids[ids.length - 1]).toBe(40_000);
  expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true); // in order, what is left
  expect(queue.messageCount).toBe(0);
  expect(queue.readyBytes).toBe(0);
  expect(readdirSync(dir)).toEqual([]);
});
