// ReadyQueue keeps a queue's messages in columns: what goes in comes out unchanged and in order,
// through growth, shrinking, wrap-around and requeues back to their positions.
import { expect, test } from "bun:test";
import type { Envelope, QueueEntry } from "../src/shard/message.ts";
import { ReadyQueue } from "../src/shard/ready_queue.ts";
import { SlabAllocator } from "../src/shard/slab.ts";
import { mulberry32 } from "./support/seeded_random.ts";

const slabs = new SlabAllocator();

function envelope(id: number): Envelope {
  const bytes = new TextEncoder().encode(`message-${id}`);
  const slab = id % 3 === 0 ? null : slabs.place(bytes, 0, bytes.length);
  return slab === null
    ? { id, buf: bytes, at: 0, length: bytes.length, slab: null, persistent: id % 2 === 0 }
    : { id, buf: slabs.lastBuf, at: slabs.lastAt, length: bytes.length, slab, persistent: id % 2 === 0 };
}

function text(e: QueueEntry): string {
  return new TextDecoder().decode(e.buf.subarray(e.at, e.at + e.length));
}

test("messages come out in order with every field as they went in, across growth and shrinking", () => {
  const q = new ReadyQueue();
  for (let round = 0; round < 3; round++) {
    for (let i = 1; i <= 1000; i++) q.push(envelope(i), i, i % 5 === 0, i % 7 === 0 ? 1_700_000_000_000 + i : 0);
    expect(q.length).toBe(1000);
    for (let i = 1; i <= 1000; i++) {
      const e = q.shift()!;
      expect({ id: e.id, text: text(e), position: e.position, redelivered: e.redelivered, expiresAt_ms: e.expiresAt_ms, persistent: e.persistent, slab: e.slab === null })
        .toEqual({ id: i, text: `message-${i}`, position: i, redelivered: i % 5 === 0, expiresAt_ms: i % 7 === 0 ? 1_700_000_000_000 + i : 0, persistent: i % 2 === 0, slab: i % 3 === 0 });
    }
    expect(q.shift()).toBeUndefined();
  }
});

test("a requeued entry goes back before the first later position, also after the head wrapped", () => {
  const q = new ReadyQueue();
  for (let i = 1; i <= 12; i++) q.push(envelope(i), i, false, 0);
  const taken = [q.shift()!, q.shift()!, q.shift()!, q.shift()!, q.shift()!]; // positions 1..5
  for (let i = 13; i <= 20; i++) q.push(envelope(i), i, false, 0); // wraps the 16-slot ring
  q.insert({ ...taken[3]!, redelivered: true }); // 4: between nothing and 6 -> head
  q.insert({ ...taken[1]!, redelivered: true }); // 2: before 4
  q.insert({ ...taken[4]!, redelivered: true }); // 5: between 4 and 6
  expect(q.headExpiresAt_ms).toBe(0);
  const order = q.clear().map((e) => `${e.position}${e.redelivered ? "r" : ""}`);
  expect(order).toEqual(["2r", "4r", "5r", ...Array.from({ length: 15 }, (_, k) => `${k + 6}`)]);
  expect(q.length).toBe(0);
  expect(q.headExpiresAt_ms).toBe(-1);
});

test("a requeue into a full ring grows it and keeps the order", () => {
  const q = new ReadyQueue();
  for (let i = 1; i <= 16; i++) q.push(envelope(i), i * 10, false, 0);
  const first = q.shift()!;
  q.push(envelope(17), 170, false, 0); // full again: 16 of 16
  q.insert({ ...first, position: 55 });
  expect(q.clear().map((e) => e.position)).toEqual([20, 30, 40, 50, 55, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170]);
});

test("a requeue near the tail moves the messages behind it, one near the head those in front", () => {
  const q = new ReadyQueue();
  for (let i = 1; i <= 10; i++) q.push(envelope(i), i * 10, false, 0);
  const head = q.shift()!; // 10
  q.insert({ ...head, position: 95 }); // 8 in front, 1 behind: the tail side moves
  q.insert({ ...head, position: 15 }); // before 20: the new head
  q.insert({ ...head, position: 25 }); // 2 in front, 9 behind: the head side moves
  q.insert({ ...head, position: 85 }); // 8 in front, 3 behind: the tail side moves
  expect(q.clear().map((e) => e.position)).toEqual([15, 20, 25, 30, 40, 50, 60, 70, 80, 85, 90, 95, 100]);
});

test("a long queue in chunks keeps order and fields through pushes, shifts and requeues at random places", () => {
  const random = mulberry32(20261203);
  const q = new ReadyQueue();
  // The model: positions in queue order. Taken entries wait to be requeued.
  const model: number[] = [];
  const taken: QueueEntry[] = [];
  let next = 1;
  let deepest = 0;
  for (let step = 0; step < 20_000; step++) {
    const r = random();
    if (r < 0.5 || model.length === 0) {
      const n = 1 + Math.floor(random() * 200);
      for (let k = 0; k < n; k++, next++) {
        q.push(envelope(next), next, false, 0);
        model.push(next);
      }
    } else if (r < 0.85) {
      const n = 1 + Math.floor(random() * 250);
      for (let k = 0; k < n && model.length > 0; k++) {
        const e = q.shift()!;
        const want = model.shift()!;
        if (e.position !== want || text(e) !== `message-${e.id}`) expect({ position: e.position, text: text(e) }).toEqual({ position: want, text: `message-${e.id}` });
        if (random() < 0.1) taken.push(e);
      }
    } else if (taken.length > 0) {
      const e = taken.splice(Math.floor(random() * taken.length), 1)[0]!;
      q.insert({ ...e, redelivered: true });
      let at = 0;
      while (at < model.length && model[at]! <= e.position) at++;
      model.splice(at, 0, e.position);
    }
    if (q.length !== model.length) expect(q.length).toBe(model.length);
    deepest = Math.max(deepest, model.length);
  }
  // Deep enough to span several chunks, and drained back through them.
  expect(deepest).toBeGreaterThan(3 * 4096);
  const rest = q.clear();
  expect(rest.map((e) => e.position)).toEqual(model);
});

test("a queue grown past several chunks drains back to an empty ring and grows again", () => {
  const q = new ReadyQueue();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 20_000; i++) q.push(envelope(i), i, false, 0);
    const head = q.shift()!;
    q.insert({ ...head, redelivered: true }); // requeue at the head of a chunked queue
    for (let i = 0; i < 20_000; i++) {
      const e = q.shift()!;
      expect({ position: e.position, redelivered: e.redelivered }).toEqual({ position: i, redelivered: i === 0 });
    }
    expect(q.length).toBe(0);
    expect(q.headExpiresAt_ms).toBe(-1);
  }
});
