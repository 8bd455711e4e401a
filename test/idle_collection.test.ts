// The idle collection policy: a thread runs a full collection of its own heap once it has been idle
// for 250 ms after its heap grew by 8 MiB, and not while batches keep coming or the heap is flat.
import { describe, expect, test } from "bun:test";
import { IdleCollector } from "../src/link/memory_pressure.ts";

const MiB = 1024 * 1024;

function collector(): { idle: IdleCollector; heap: { bytes: number }; collections: () => number } {
  const heap = { bytes: 20 * MiB };
  let collections = 0;
  const idle = new IdleCollector(() => heap.bytes, () => {
    collections++;
    heap.bytes = 20 * MiB;
  });
  return { idle, heap, collections: () => collections };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("idle collection", () => {
  test("a thread whose heap grew by 8 MiB collects once after 250 ms without a batch", async () => {
    const { idle, heap, collections } = collector();
    heap.bytes += 9 * MiB;
    idle.afterBatch(performance.now());
    await sleep(150);
    expect(collections()).toBe(0);
    await sleep(250);
    expect(collections()).toBe(1);
    idle.afterBatch(performance.now()); // back at its size after the collection: nothing more due
    await sleep(400);
    expect(collections()).toBe(1);
  });

  test("a heap that grew less than 8 MiB is left to the runtime's own collector", async () => {
    const { idle, heap, collections } = collector();
    heap.bytes += 7 * MiB;
    idle.afterBatch(performance.now());
    await sleep(400);
    expect(collections()).toBe(0);
  });

  test("batches that keep coming put the collection off until they stop", async () => {
    const { idle, heap, collections } = collector();
    heap.bytes += 16 * MiB;
    for (let i = 0; i < 6; i++) {
      idle.afterBatch(performance.now());
      await sleep(100);
    }
    expect(collections()).toBe(0);
    await sleep(300);
    expect(collections()).toBe(1);
  });

  test("a collection asked for directly (the memory alarm's) resets the growth", async () => {
    const { idle, heap, collections } = collector();
    heap.bytes += 9 * MiB;
    idle.afterBatch(performance.now());
    idle.collect();
    await sleep(400);
    expect(collections()).toBe(1);
  });
});
