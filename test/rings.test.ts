import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RING_HEADER_BYTES, RingReader, RingWriter, createRing } from "../src/rings/ring.ts";
import { checkRecord, recordLength, writeRecord } from "./ring_test_records.ts";
import type { EchoJob, EchoResult } from "./ring_test_records.ts";

const NOT_YET = "not yet";

/** Resolves with the promise's outcome, or NOT_YET after limit_ms. */
function within<T>(promise: Promise<T>, limit_ms: number): Promise<T | typeof NOT_YET> {
  return Promise.race<T | typeof NOT_YET>([promise, Bun.sleep(limit_ms).then(() => NOT_YET)]);
}

/** Counts Atomics.notify calls on this thread until restore(). */
function spyOnNotify(): { readonly calls: () => number; readonly restore: () => void } {
  const real_notify = Atomics.notify;
  let calls = 0;
  Atomics.notify = ((typed_array: Int32Array, index: number, count?: number) => {
    calls++;
    return real_notify(typed_array, index, count);
  }) as typeof Atomics.notify;
  return { calls: () => calls, restore: () => (Atomics.notify = real_notify) };
}

function ringPair(capacity_bytes: number): { writer: RingWriter; reader: RingReader } {
  const sab = createRing(capacity_bytes);
  return { writer: new RingWriter(sab), reader: new RingReader(sab) };
}

/** Payload byte i of record `sequence` in the single-thread tests (any size, even 0). */
function lapByte(sequence: number, index: number): number {
  return (sequence * 31 + index * 131 + 7) & 0xff;
}

describe("ring on one thread", () => {
  test("the header size is exported and the data area is the requested power of two", () => {
    const sab = createRing(1024);
    expect(sab.byteLength).toBe(RING_HEADER_BYTES + 1024);
    const { writer } = ringPair(1024);
    expect(writer.u8.length).toBe(1024);
    expect(writer.maxRecordBytes).toBe(256);
  });

  test("an empty ring yields no record", () => {
    const { reader } = ringPair(1024);
    expect(reader.next()).toBe(-1);
  });

  test("committed records stay invisible until publish, then arrive in order with their lengths", () => {
    const { writer, reader } = ringPair(1024);
    for (const size of [3, 0, 17]) {
      const offset = writer.reserve(size);
      writer.u8.fill(size, offset, offset + size);
      writer.commit(size);
    }
    expect(reader.next()).toBe(-1);
    writer.publish();
    for (const size of [3, 0, 17]) {
      const offset = reader.next();
      expect(offset % 8).toBe(0);
      expect(reader.recordLength).toBe(size);
      expect([...reader.u8.subarray(offset, offset + size)]).toEqual(new Array(size).fill(size));
    }
    expect(reader.next()).toBe(-1);
  });

  test("reserve returns -1 when full and succeeds only after the reader releases", () => {
    const { writer, reader } = ringPair(1024);
    let records = 0;
    while (writer.reserve(56) >= 0) {
      writer.commit(56);
      records++;
    }
    expect(records).toBe(1024 / 64); // 8-byte header + 56-byte payload per record
    writer.publish();
    for (let i = 0; i < records; i++) expect(reader.next()).toBeGreaterThanOrEqual(0);
    expect(reader.next()).toBe(-1);
    // Consumed but not released: the writer must not reuse those bytes.
    expect(writer.reserve(56)).toBe(-1);
    reader.release();
    expect(writer.reserve(56)).toBe(8);
  });

  test("a record that does not fit before the end starts at 0 after a padding marker", () => {
    const { writer, reader } = ringPair(256);
    for (let i = 0; i < 3; i++) {
      writer.reserve(56);
      writer.commit(56);
    }
    writer.publish();
    while (reader.next() >= 0);
    reader.release();
    // Tail at 192: 64 bytes remain, a 64-byte payload needs 72.
    const offset = writer.reserve(64);
    expect(offset).toBe(8);
    writer.u8.fill(0xab, offset, offset + 64);
    writer.commit(64);
    expect(writer.pendingBytes).toBe(64 + 72);
    writer.publish();
    expect(reader.next()).toBe(8);
    expect(reader.recordLength).toBe(64);
    expect(reader.u8[8 + 63]).toBe(0xab);
    expect(reader.next()).toBe(-1);
  });

  test("reserve counts the padding: it fails when padding plus record exceed the free bytes", () => {
    const { writer, reader } = ringPair(256);
    for (let i = 0; i < 3; i++) {
      writer.reserve(56);
      writer.commit(56);
    }
    writer.publish();
    reader.next();
    reader.release();
    // 128 bytes free: enough for a 72-byte slot, not for 64 bytes of padding plus it.
    expect(writer.reserve(64)).toBe(-1);
    reader.next();
    reader.release();
    expect(writer.reserve(64)).toBe(8);
  });

  test("committing less than reserved gives the unused bytes to the next record", () => {
    const { writer, reader } = ringPair(1024);
    expect(writer.reserve(200)).toBe(8);
    writer.commit(10);
    expect(writer.reserve(200)).toBe(8 + 16 + 8);
    writer.commit(0);
    writer.publish();
    expect(reader.next()).toBe(8);
    expect(reader.recordLength).toBe(10);
    expect(reader.next()).toBe(32);
    expect(reader.recordLength).toBe(0);
  });

  test("pendingBytes counts committed unpublished bytes and publish resets it", () => {
    const { writer } = ringPair(1024);
    writer.reserve(20);
    expect(writer.pendingBytes).toBe(0);
    writer.commit(20);
    expect(writer.pendingBytes).toBe(32);
    writer.publish();
    expect(writer.pendingBytes).toBe(0);
  });

  test("sizes 0..maxRecordBytes across many laps arrive intact and in order", () => {
    const capacity_bytes = 4096;
    const { writer, reader } = ringPair(capacity_bytes);
    const max = writer.maxRecordBytes;
    const sizeOf = (sequence: number) => (Math.imul(sequence, 2654435761) >>> 0) % (max + 1);
    let written = 0;
    let read = 0;
    let payload_bytes = 0;
    let step = 1;
    while (payload_bytes < 300 * capacity_bytes) {
      step = (Math.imul(step, 1103515245) + 12345) >>> 0;
      // Alternate uneven write and read batches so head and tail meet everywhere.
      for (let n = step % 7; n >= 0; n--) {
        const size = sizeOf(written);
        const offset = writer.reserve(size);
        if (offset < 0) break;
        for (let i = 0; i < size; i++) writer.u8[offset + i] = lapByte(written, i);
        writer.commit(size);
        payload_bytes += size;
        written++;
      }
      writer.publish();
      for (let n = (step >>> 8) % 7; n >= 0; n--) {
        const offset = reader.next();
        if (offset < 0) break;
        expect(reader.recordLength).toBe(sizeOf(read));
        for (let i = 0; i < reader.recordLength; i++) {
          if (reader.u8[offset + i] !== lapByte(read, i)) throw new Error(`record ${read} byte ${i} differs`);
        }
        read++;
      }
      reader.release();
    }
    while (reader.next() >= 0) read++;
    expect(read).toBe(written);
    expect(written).toBeGreaterThan(2000);
  });

  test("sizes and buffers outside the contract are rejected", () => {
    expect(() => createRing(1000)).toThrow();
    expect(() => createRing(32)).toThrow();
    expect(() => new RingReader(new SharedArrayBuffer(RING_HEADER_BYTES + 1000))).toThrow();
    const { writer } = ringPair(1024);
    expect(() => writer.reserve(writer.maxRecordBytes + 1)).toThrow();
    expect(() => writer.reserve(-1)).toThrow();
    expect(() => writer.reserve(1.5)).toThrow();
    expect(() => writer.commit(0)).toThrow();
    writer.reserve(10);
    expect(() => writer.commit(11)).toThrow();
  });

  test("waitForSpace publishes pending records and resolves once the reader releases", async () => {
    const { writer, reader } = ringPair(1024);
    while (writer.reserve(100) >= 0) writer.commit(100);
    const space = writer.waitForSpace(100);
    expect(await within(space, 30)).toBe(NOT_YET);
    expect(reader.next()).toBe(8); // published by waitForSpace
    expect(await within(space, 30)).toBe(NOT_YET); // consumed, not released
    reader.release();
    expect(await within(space, 1000)).toBeUndefined();
    expect(writer.reserve(100)).toBeGreaterThanOrEqual(0);
  });

  test("waitForData resolves only on publish, and releases consumed records first", async () => {
    const { writer, reader } = ringPair(1024);
    while (writer.reserve(100) >= 0) writer.commit(100);
    writer.publish();
    while (reader.next() >= 0);
    const data = reader.waitForData();
    expect(writer.reserve(100)).toBe(8); // released by waitForData
    writer.commit(100);
    expect(await within(data, 30)).toBe(NOT_YET);
    writer.publish();
    expect(await within(data, 1000)).toBeUndefined();
    expect(reader.next()).toBe(8);
  });

  test("publish and release notify only a side that announced it sleeps, once per sleep", async () => {
    const { writer, reader } = ringPair(1024);
    const notify = spyOnNotify();
    try {
      writer.reserve(8);
      writer.commit(8);
      writer.publish();
      reader.next();
      reader.release();
      expect(notify.calls()).toBe(0);
      const data = reader.waitForData();
      for (let i = 0; i < 3; i++) {
        writer.reserve(8);
        writer.commit(8);
        writer.publish();
      }
      expect(notify.calls()).toBe(1);
      expect(await within(data, 1000)).toBeUndefined();
    } finally {
      notify.restore();
    }
  });
});

describe("ring across threads", () => {
  let worker: Worker;
  const real_wait = Atomics.wait;
  let blocking_waits = 0;

  beforeAll(() => {
    worker = new Worker(new URL("./ring_echo_worker.ts", import.meta.url));
    // The acceptor must never block: any Atomics.wait on this thread is a failure.
    Atomics.wait = () => {
      blocking_waits++;
      throw new Error("Atomics.wait called on the main thread");
    };
  });

  afterAll(() => {
    Atomics.wait = real_wait;
    worker.terminate();
  });

  function runJob(job: EchoJob): Promise<EchoResult> {
    return new Promise((resolve, reject) => {
      worker.addEventListener("message", (event: MessageEvent<EchoResult>) => resolve(event.data), { once: true });
      worker.addEventListener("error", (event) => reject(new Error(event.message)), { once: true });
      worker.postMessage(job);
    });
  }

  interface SendOptions {
    readonly records: number;
    /** Publish when this many bytes are pending (the batch end). */
    readonly batch_bytes: number;
    /** Sleep pause_ms after every pause_every records (0 = never). */
    readonly pause_every: number;
    readonly pause_ms: number;
  }

  async function sendRecords(writer: RingWriter, options: SendOptions): Promise<{ space_waits: number; publishes: number }> {
    let space_waits = 0;
    let publishes = 0;
    let sequence = 0;
    while (sequence < options.records) {
      const length = recordLength(sequence, writer.maxRecordBytes);
      const offset = writer.reserve(length);
      if (offset < 0) {
        space_waits++;
        publishes++;
        await writer.waitForSpace(length);
        continue;
      }
      writeRecord(writer.u8, writer.view, offset, sequence, length);
      writer.commit(length);
      sequence++;
      if (writer.pendingBytes >= options.batch_bytes) {
        writer.publish();
        publishes++;
      }
      if (options.pause_every > 0 && sequence % options.pause_every === 0) {
        writer.publish();
        publishes++;
        await Bun.sleep(options.pause_ms);
      }
    }
    writer.publish();
    publishes++;
    return { space_waits, publishes };
  }

  async function receiveRecords(reader: RingReader, records: number, max_record_bytes: number): Promise<number> {
    let data_waits = 0;
    let sequence = 0;
    while (sequence < records) {
      const offset = reader.next();
      if (offset < 0) {
        data_waits++;
        await reader.waitForData();
        continue;
      }
      const error = checkRecord(reader.u8, reader.view, offset, reader.recordLength, sequence, max_record_bytes);
      if (error !== null) throw new Error(`main thread: ${error}`);
      sequence++;
    }
    reader.release();
    return data_waits;
  }

  async function echoRun(capacity_bytes: number, send: SendOptions, sleep_every: number, sleep_ms: number) {
    const request = createRing(capacity_bytes);
    const response = createRing(capacity_bytes);
    const writer = new RingWriter(request);
    const reader = new RingReader(response);
    const job: EchoJob = {
      request,
      response,
      records: send.records,
      max_record_bytes: writer.maxRecordBytes,
      sleep_every,
      sleep_ms,
      mode: "echo",
    };
    const [worker_result, sent, main_data_waits] = await Promise.all([
      runJob(job),
      sendRecords(writer, send),
      receiveRecords(reader, send.records, writer.maxRecordBytes),
    ]);
    expect(worker_result.error).toBeNull();
    expect(worker_result.records).toBe(send.records);
    expect(reader.next()).toBe(-1);
    return { worker_result, sent, main_data_waits };
  }

  test("millions of variable records through a small ring echo back in order and intact without blocking the main thread", async () => {
    const records = 2_000_000;
    let ticks = 0;
    const heartbeat = setInterval(() => ticks++, 1);
    const started_ms = performance.now();
    const { worker_result, sent } = await echoRun(
      4096,
      { records, batch_bytes: 1024, pause_every: 0, pause_ms: 0 },
      0,
      0,
    );
    const elapsed_ms = performance.now() - started_ms;
    clearInterval(heartbeat);
    console.log(
      `ring echo: ${records} records (4 KiB rings) in ${elapsed_ms.toFixed(0)} ms = ` +
        `${((records / elapsed_ms) * 1000 / 1e6).toFixed(2)}M records/s round trip; ` +
        `main space waits ${sent.space_waits}, worker data waits ${worker_result.data_waits}, ` +
        `worker space waits ${worker_result.space_waits}, event-loop ticks ${ticks}`,
    );
    expect(sent.space_waits).toBeGreaterThan(0); // the ring really was full
    expect(blocking_waits).toBe(0);
    expect(ticks).toBeGreaterThan(0); // the event loop kept turning
  }, 60_000);

  test("a slow reader makes the writer wait for space, and nothing is lost", async () => {
    const { worker_result, sent } = await echoRun(
      4096,
      { records: 20_000, batch_bytes: 1024, pause_every: 0, pause_ms: 0 },
      500,
      2,
    );
    expect(sent.space_waits).toBeGreaterThan(10);
    expect(worker_result.records).toBe(20_000);
    expect(blocking_waits).toBe(0);
  }, 20_000);

  test("a slow writer makes the reader sleep and each batch wakes it at most once", async () => {
    const notify = spyOnNotify();
    try {
      const { worker_result, sent, main_data_waits } = await echoRun(
        4096,
        { records: 4_000, batch_bytes: 1024, pause_every: 40, pause_ms: 1 },
        0,
        0,
      );
      expect(worker_result.data_waits).toBeGreaterThan(50);
      expect(main_data_waits).toBeGreaterThan(50);
      // Main-thread notifies come from publish (worker asleep on data) and
      // release (worker waiting for space): at most one per publish or release batch.
      expect(notify.calls()).toBeGreaterThan(0);
      expect(notify.calls()).toBeLessThanOrEqual(sent.publishes + main_data_waits + 1);
      expect(blocking_waits).toBe(0);
    } finally {
      notify.restore();
    }
  }, 20_000);

  test("64-byte records stream across threads (throughput printed)", async () => {
    const records = 8_000_000;
    const record_bytes = 64;
    const batch_bytes = 16 * 1024;
    const request = createRing(1 << 20);
    const writer = new RingWriter(request);
    const job: EchoJob = {
      request,
      response: createRing(64),
      records,
      max_record_bytes: writer.maxRecordBytes,
      sleep_every: 0,
      sleep_ms: 0,
      mode: "count",
    };
    // A real encoder writes the whole payload: copy a 64-byte frame per record.
    const frame = new Uint8Array(record_bytes).map((_, i) => i);
    const started_ms = performance.now();
    const done = runJob(job);
    let space_waits = 0;
    for (let sequence = 0; sequence < records; ) {
      const offset = writer.reserve(record_bytes);
      if (offset < 0) {
        space_waits++;
        await writer.waitForSpace(record_bytes);
        continue;
      }
      writer.u8.set(frame, offset);
      writer.view.setUint32(offset, sequence, true);
      writer.commit(record_bytes);
      sequence++;
      if (writer.pendingBytes >= batch_bytes) writer.publish();
    }
    writer.publish();
    const result = await done;
    const elapsed_ms = performance.now() - started_ms;
    console.log(
      `ring throughput: ${((records / elapsed_ms) * 1000 / 1e6).toFixed(1)}M ${record_bytes}-byte records/s ` +
        `across threads (${records} records, 1 MiB ring, ${batch_bytes / 1024} KiB batches, ` +
        `${space_waits} writer waits, ${result.data_waits} reader waits)`,
    );
    expect(result.error).toBeNull();
    expect(result.records).toBe(records);
    expect(blocking_waits).toBe(0);
  }, 60_000);
});
