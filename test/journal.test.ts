import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { Journal } from "../src/journal/journal.ts";
import { bytes, captureStderr, openJournal, put, removeTempDirs, replayOnly, segmentFiles, tempDir } from "./journal_fixtures.ts";

afterEach(removeTempDirs);

describe("journal replay", () => {
  test("gives exactly the live messages, in FIFO order per queue, with redelivered flags", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    const a1 = put(journal, ["v\0a"], "a1");
    const both = put(journal, ["v\0a", "v\0b"], "both");
    const a2 = put(journal, ["v\0a"], "a2");
    const b1 = put(journal, ["v\0b"], "b1");
    const a3 = put(journal, ["v\0a"], "a3");
    const c1 = put(journal, ["v\0c"], "c1");
    journal.delivered("v\0a", [a1, a2]);
    journal.remove("v\0a", [a2]); // acked
    journal.remove("v\0b", [both]); // still in a
    journal.delivered("v\0b", [b1]);
    journal.dropQueue("v\0c");
    expect(journal.remove("v\0a", [c1, 999])).toBeGreaterThan(0); // not in that queue: ignored
    await journal.close();

    const { sink, result } = await replayOnly(dir);
    expect(sink.inQueue("v\0a")).toEqual([
      { queue: "v\0a", msgId: a1, text: "a1", redelivered: true },
      { queue: "v\0a", msgId: both, text: "both", redelivered: false },
      { queue: "v\0a", msgId: a3, text: "a3", redelivered: false },
    ]);
    expect(sink.inQueue("v\0b")).toEqual([{ queue: "v\0b", msgId: b1, text: "b1", redelivered: true }]);
    expect(sink.calls.length).toBe(4);
    expect(result.messages).toBe(4);
    expect(result.segments).toBe(1);
    expect(result.truncatedAt).toBeUndefined();
  });

  test("a dropped queue that is re-declared keeps only messages enqueued after the drop", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    put(journal, ["v\0q"], "old");
    journal.dropQueue("v\0q");
    const fresh = put(journal, ["v\0q"], "new");
    await journal.close();
    const { sink } = await replayOnly(dir);
    expect(sink.calls).toEqual([{ queue: "v\0q", msgId: fresh, text: "new", redelivered: false }]);
  });

  test("dropQueue removes every remaining message of a queue after most were acked one by one", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    const ids = Array.from({ length: 3000 }, (_, i) => put(journal, i % 3 === 0 ? ["v\0q", "v\0keep"] : ["v\0q"], `m${i}`));
    journal.remove("v\0q", ids.slice(0, 2500));
    journal.dropQueue("v\0q");
    await journal.close();
    const { sink } = await replayOnly(dir);
    expect(sink.inQueue("v\0q")).toEqual([]);
    expect(sink.inQueue("v\0keep").map((c) => c.msgId)).toEqual(ids.filter((_, i) => i % 3 === 0));
  });

  test("msgIds of journaled messages are never reused, even after every segment holding one was deleted", async () => {
    const dir = tempDir();
    let last = 0;
    for (let run = 0; run < 3; run++) {
      const first = openJournal(dir);
      const id = put(first.journal, ["v\0q"], `run ${run}`);
      expect(id).toBeGreaterThan(last);
      last = id;
      await first.journal.close();
      // The next start-up only acks: its new segment holds no message record, and the
      // segment that did is deleted.
      const second = openJournal(dir);
      second.journal.remove("v\0q", [id]);
      await second.journal.settle();
      await second.journal.close();
      expect(segmentFiles(dir).length).toBe(1);
    }
  });

  test("copies the payload, so the caller may reuse its buffer", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    const buffer = bytes("original");
    const id = journal.nextMsgId();
    journal.enqueue(id, ["v\0q"], buffer);
    buffer.fill(0x21);
    await journal.close();
    const { sink } = await replayOnly(dir);
    expect(sink.calls.map((c) => c.text)).toEqual(["original"]);
  });

  test("a recovered queue is read from the segments only as it is taken, in order, and can be taken in parts", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: 64 * 1024 });
    const ids: number[] = [];
    for (let i = 0; i < 3_000; i++) ids.push(put(journal, [i % 3 === 0 ? "v\0other" : "v\0q"], `m${i}-${"x".repeat(i % 50)}`));
    await journal.close();
    const reopened = Journal.open({ dir, fsync: "always" });
    const readers = new Map<string, import("../src/journal/journal.ts").RecoveredMessages>();
    const result = reopened.replay({ queue: (name, messages) => readers.set(name, messages) });
    expect(result.messages).toBe(3_000);
    const q = readers.get("v\0q")!;
    expect(q.count).toBe(2_000);
    const got: string[] = [];
    const each = (_id: number, buf: Uint8Array, at: number, length: number) => got.push(new TextDecoder().decode(buf.subarray(at, at + length)));
    expect(q.take(7, each)).toBe(7);
    expect(q.count).toBe(1_993);
    expect(q.take(5_000, each)).toBe(1_993);
    expect(got).toEqual(ids.map((_, i) => i).filter((i) => i % 3 !== 0).map((i) => `m${i}-${"x".repeat(i % 50)}`));
    readers.get("v\0other")!.close();
    await reopened.close();
  });

  test("a recovered queue's payloads keep at most about 4x their bytes of read buffers alive, however sparse its records", async () => {
    /** Takes `q` in batches as a memory window would; the distinct buffers its payloads refer to, against the payload bytes. */
    const retained = (q: import("../src/journal/journal.ts").RecoveredMessages, texts: string[]) => {
      const buffers = new Set<ArrayBufferLike>();
      let payload = 0;
      while (q.count > 0) {
        q.take(256, (_id, buf, at, length) => {
          buffers.add(buf.buffer);
          payload += length;
          texts.push(new TextDecoder().decode(buf.subarray(at, at + length)));
        });
      }
      let held = 0;
      for (const b of buffers) held += b.byteLength;
      return { payload, held };
    };
    for (const [name, othersPerOne, otherBytes] of [["1:1", 1, 600], ["sparse", 1, 20_000]] as const) {
      const dir = tempDir();
      const { journal } = openJournal(dir);
      const expected: string[] = [];
      for (let i = 0; i < 600; i++) {
        const text = `a${i}-${"a".repeat(200)}`;
        expected.push(text);
        put(journal, ["v\0a"], text);
        for (let j = 0; j < othersPerOne; j++) put(journal, ["v\0b"], "b".repeat(otherBytes));
      }
      await journal.close();
      const reopened = Journal.open({ dir, fsync: "always" });
      const readers = new Map<string, import("../src/journal/journal.ts").RecoveredMessages>();
      reopened.replay({ queue: (queue, messages) => readers.set(queue, messages) });
      const texts: string[] = [];
      const { payload, held } = retained(readers.get("v\0a")!, texts);
      expect(texts).toEqual(expected);
      // Referenced read buffers are at least a quarter payload; the last one may be cut short.
      expect({ name, ok: held <= 4 * payload + (1 << 20) }).toEqual({ name, ok: true });
      if (name === "sparse") expect(held).toBeLessThan(2 * payload); // copied, not a 1 MiB buffer per few messages
      readers.get("v\0b")!.close();
      await reopened.close();
    }
  });

  test("replays many messages into several queues in msgId order", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: 1 << 20 });
    const payload = new Uint8Array(1024);
    const ids: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const id = journal.nextMsgId();
      payload[0] = i & 0xff;
      journal.enqueue(id, [`v\0q${i % 4}`], payload);
      ids.push(id);
    }
    await journal.close();
    const { sink, result } = await replayOnly(dir);
    expect(result.messages).toBe(20_000);
    expect(result.segments).toBeGreaterThan(15);
    for (let q = 0; q < 4; q++) {
      expect(sink.inQueue(`v\0q${q}`).map((c) => c.msgId)).toEqual(ids.filter((_, i) => i % 4 === q));
    }
  });

  test("works with fsync never, without a single sync", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { fsync: "never" });
    put(journal, ["v\0q"], "m");
    await journal.close();
    expect(journal.stats.syncs).toBe(0);
    const { sink } = await replayOnly(dir, { fsync: "never" });
    expect(sink.calls.map((c) => c.text)).toEqual(["m"]);
  });
});

describe("journal API guards", () => {
  test("refuses appends before replay and msgIds it did not issue", async () => {
    const journal = Journal.open({ dir: tempDir(), fsync: "always" });
    expect(() => journal.nextMsgId()).toThrow(/replay/);
    journal.replay({ queue: () => {} });
    expect(() => journal.enqueue(5, ["v\0q"], bytes("x"))).toThrow(/not issued/);
    const id = journal.nextMsgId();
    expect(() => journal.enqueue(id, ["v\0q", "v\0q"], bytes("x"))).toThrow(/twice/);
    expect(() => journal.enqueue(id, ["v\0" + "n".repeat(2000)], bytes("x"))).toThrow(/limit/);
    journal.enqueue(id, ["v\0q"], bytes("x"));
    expect(() => journal.enqueue(id, ["v\0q"], bytes("x"))).toThrow(/already live/);
    expect(() => journal.remove("v\0q", [])).toThrow(/empty/);
    await journal.close();
    expect(() => journal.nextMsgId()).toThrow(/closed/);
  });
});

describe("journal write failure", () => {
  test("a failed write rejects flush, reports once on stderr, and refuses further appends", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    fs.mkdirSync(path.join(dir, "0000000001.seg")); // the segment file cannot be created
    put(journal, ["v\0q"], "lost");
    const { value: error, lines } = await captureStderr(() => journal.flush().catch((err: unknown) => err));
    expect((error as Error).message).toContain("0000000001.seg");
    expect(lines.length).toBe(1);
    expect(lines[0]).toStartWith("[error] journal:");
    expect(() => put(journal, ["v\0q"], "more")).toThrow(error as Error);
    await journal.close().catch(() => {});
  });
});

describe("group commit", () => {
  test("appends made while a write+sync is in flight go out together in the next batch", async () => {
    const { journal } = openJournal(tempDir());
    put(journal, ["v\0q"], "first");
    await Promise.resolve(); // the first batch starts at the end of the task
    await Promise.resolve();
    expect(journal.pending_bytes).toBe(0); // taken by the writer, now in flight
    for (let i = 0; i < 1000; i++) put(journal, ["v\0q"], `m${i}`);
    await journal.flush();
    expect(journal.stats.batches).toBe(2);
    // First batch: fdatasync + directory fsync for the new segment; second: one fdatasync.
    expect(journal.stats.syncs).toBe(3);
    await journal.close();
  });

  test("a lone record is written and synced without waiting for more", async () => {
    const { journal } = openJournal(tempDir());
    const seq = journal.enqueue(journal.nextMsgId(), ["v\0q"], bytes("solo"));
    const durable = new Promise<number>((resolve) => (journal.onDurable = resolve));
    expect(await durable).toBe(seq);
    expect(journal.stats.batches).toBe(1);
    await journal.close();
  });

  test("onDurable reports increasing seqs, each after durableSeq reached it, ending at the last append", async () => {
    const { journal } = openJournal(tempDir());
    const reported: number[] = [];
    journal.onDurable = (seq) => {
      expect(journal.durableSeq).toBe(seq);
      reported.push(seq);
    };
    const seqs: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) seqs.push(journal.enqueue(journal.nextMsgId(), ["v\0q"], bytes(`r${round}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    seqs.push(journal.delivered("v\0q", [1, 2]));
    seqs.push(journal.dropQueue("v\0q"));
    await journal.flush();
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(reported).toEqual([...new Set(reported)].sort((a, b) => a - b));
    expect(reported.at(-1)).toBe(seqs.at(-1)!);
    expect(journal.durableSeq).toBe(seqs.at(-1)!);
    await journal.close();
  });
});

describe("journal index snapshot", () => {
  test("a checkpoint lets the next replay skip the scan, with the same messages, and is used once", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: 64 * 1024 });
    const ids: number[] = [];
    for (let i = 0; i < 2_000; i++) ids.push(put(journal, [i % 2 === 0 ? "v\0a" : "v\0b"], `m${i}`));
    const fanout = put(journal, ["v\0a", "v\0b"], "both");
    journal.remove("v\0a", ids.slice(0, 100).filter((_, i) => i % 2 === 0));
    journal.delivered("v\0b", [ids[1]!]);
    await journal.checkpoint();
    await journal.close();
    const snap = await replayOnly(dir);
    expect(snap.result.fromSnapshot).toBe(true);
    expect(fs.existsSync(path.join(dir, "index.snapshot"))).toBe(false);
    const scanned = await replayOnly(dir); // the snapshot was used up: this one scans
    expect(scanned.result.fromSnapshot).toBe(false);
    expect(snap.sink.calls).toEqual(scanned.sink.calls);
    expect(snap.sink.inQueue("v\0a").map((c) => c.text)).toEqual([...ids.map((_, i) => i).filter((i) => i % 2 === 0 && i >= 100).map((i) => `m${i}`), "both"]);
    expect(snap.sink.inQueue("v\0b")[0]).toEqual({ queue: "v\0b", msgId: ids[1]!, text: "m1", redelivered: true });
    expect(snap.sink.inQueue("v\0b").at(-1)?.msgId).toBe(fanout);
  });

  test("records appended after a snapshot are scanned on top of it; a snapshot the files no longer hold is ignored", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir);
    const before = put(journal, ["v\0q"], "before");
    await journal.checkpoint();
    put(journal, ["v\0q"], "after");
    journal.remove("v\0q", [before]);
    await journal.close();
    const withTail = await replayOnly(dir);
    expect(withTail.result.fromSnapshot).toBe(true);
    expect(withTail.result.records_scanned).toBe(2);
    expect(withTail.sink.calls.map((c) => c.text)).toEqual(["after"]);

    const again = openJournal(dir).journal;
    await again.checkpoint();
    await again.close();
    const file = path.join(dir, "index.snapshot");
    const bytes = fs.readFileSync(file);
    bytes[10] = bytes[10]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const damaged = await replayOnly(dir);
    expect(damaged.result.fromSnapshot).toBe(false);
    expect(damaged.sink.calls.map((c) => c.text)).toEqual(["after"]);

    // A segment shorter than the snapshot recorded: the snapshot covers bytes that are gone.
    const third = openJournal(dir).journal;
    put(third, ["v\0q"], "third");
    await third.checkpoint();
    await third.close();
    const [segment] = segmentFiles(dir).slice(-1);
    fs.truncateSync(segment!, fs.statSync(segment!).size - 1);
    const shrunk = await replayOnly(dir);
    expect(shrunk.result.fromSnapshot).toBe(false);
    expect(shrunk.result.truncatedAt).toBeDefined();
  });

  test("periodic snapshots: after a crash the start-up scans only the records since the last one, and finds what a full scan finds", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: 16 * 1024, snapshotEveryRecords: 500 });
    const live = new Map<string, number[]>([["v\0a", []], ["v\0b", []]]);
    for (let i = 0; i < 6_000; i++) {
      const queue = i % 3 === 0 ? "v\0b" : "v\0a";
      live.get(queue)!.push(put(journal, [queue], `m${i}`));
      // Acks trail the publishes, so old segments die and are deleted (or compacted) as it runs.
      if (i % 10 === 9) {
        const ids = live.get("v\0a")!;
        journal.remove("v\0a", ids.splice(0, 6));
      }
      if (i % 500 === 0) await journal.flush();
    }
    journal.delivered("v\0b", live.get("v\0b")!.slice(0, 3));
    await journal.flush();
    expect(journal.stats.snapshots_written).toBeGreaterThan(3);
    expect(journal.stats.segments_deleted).toBeGreaterThan(0);
    // A crash once everything is durable: no shutdown snapshot, the last periodic one stays.
    await journal.close();
    expect(fs.existsSync(path.join(dir, "index.snapshot"))).toBe(true);
    const copy = tempDir();
    fs.cpSync(dir, copy, { recursive: true });
    fs.rmSync(path.join(copy, "index.snapshot"));

    const fromSnapshot = await replayOnly(dir);
    const fromScratch = await replayOnly(copy);
    expect(fromSnapshot.result.fromSnapshot).toBe(true);
    expect(fromScratch.result.fromSnapshot).toBe(false);
    expect(fromSnapshot.result.records_scanned).toBeLessThan(fromScratch.result.records_scanned);
    // A snapshot is taken once 500 records passed since the last, and one is written at a time.
    expect(fromSnapshot.result.records_scanned).toBeLessThan(1_500);
    expect(fromSnapshot.sink.calls).toEqual(fromScratch.sink.calls);
    expect(fromSnapshot.sink.inQueue("v\0a").map((c) => c.msgId)).toEqual(live.get("v\0a")!);
    expect(fromSnapshot.sink.inQueue("v\0b").map((c) => c.msgId)).toEqual(live.get("v\0b")!);
    expect(fromSnapshot.sink.inQueue("v\0b").slice(0, 4).map((c) => c.redelivered)).toEqual([true, true, true, false]);
  });
});
