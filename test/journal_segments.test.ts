import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import type { Journal } from "../src/journal/journal.ts";
import { openJournal, put, removeTempDirs, replayOnly, segmentFiles, tempDir } from "./journal_fixtures.ts";

afterEach(removeTempDirs);

const SEGMENT_BYTES = 8192;

function fileBytes(dir: string): number {
  return segmentFiles(dir).reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

/** Enqueues and immediately acks `count` messages of `size` bytes on a busy queue. */
async function churn(journal: Journal, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = put(journal, ["v\0busy"], "b".repeat(size));
    journal.remove("v\0busy", [id]);
    if (i % 20 === 19) await journal.flush();
  }
}

describe("journal segments", () => {
  test("roll over at segment_bytes and replay across all of them", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    const ids = Array.from({ length: 200 }, (_, i) => put(journal, ["v\0q"], `m${i}`.padEnd(200, ".")));
    await journal.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(fs.statSync(file).size).toBeLessThanOrEqual(SEGMENT_BYTES);
    const { sink, result } = await replayOnly(dir, { segment_bytes: SEGMENT_BYTES });
    expect(result.segments).toBe(files.length);
    expect(sink.calls.map((c) => c.msgId)).toEqual(ids);
  });

  test("a record larger than a segment gets a segment of its own", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: 4096 });
    put(journal, ["v\0q"], "small");
    put(journal, ["v\0q"], "L".repeat(10_000));
    put(journal, ["v\0q"], "after");
    await journal.close();
    const { sink } = await replayOnly(dir, { segment_bytes: 4096 });
    expect(sink.calls.map((c) => c.text.length)).toEqual([5, 10_000, 5]);
  });

  test("segments whose messages are all gone are deleted, oldest first, the newest kept", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    const ids = Array.from({ length: 200 }, (_, i) => put(journal, ["v\0q"], `m${i}`.padEnd(200, ".")));
    await journal.flush();
    const before = segmentFiles(dir);
    journal.remove("v\0q", ids.slice(0, 150));
    await journal.settle();
    const kept = segmentFiles(dir).filter((file) => before.includes(file));
    expect(kept.length).toBeLessThan(before.length / 2);
    expect(kept).toEqual(before.slice(before.length - kept.length)); // the oldest went
    expect(journal.stats.segments_deleted).toBe(before.length - kept.length);
    journal.remove("v\0q", ids.slice(150));
    await journal.settle();
    expect(segmentFiles(dir).length).toBe(1);
    await journal.close();
    const { result } = await replayOnly(dir);
    expect(result.messages).toBe(0);
  });

  test("an ack in a newer segment is not lost by deleting it before the older segment it refers to", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    const keep = put(journal, ["v\0q", "v\0r"], "keep"); // segment 1, stays live in r
    await churn(journal, 100, 200); // segments 2.., all dead
    journal.remove("v\0q", [keep]); // this ack sits in a newer segment
    await churn(journal, 100, 200);
    await journal.settle();
    await journal.close();
    const { sink } = await replayOnly(dir);
    expect(sink.calls.map((c) => [c.queue, c.text])).toEqual([["v\0r", "keep"]]);
  });

  test("live messages of mostly-dead old segments are rewritten forward, keeping every one and bounding disk use", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    const stuck: number[] = [];
    for (let round = 0; round < 40; round++) {
      stuck.push(put(journal, round % 2 === 0 ? ["v\0stuck"] : ["v\0stuck", "v\0other"], `stuck ${round}`));
      await churn(journal, 40, 200);
    }
    journal.delivered("v\0stuck", stuck.slice(0, 10));
    journal.remove("v\0other", stuck.slice(0, 20));
    await churn(journal, 400, 200);
    await journal.settle();

    expect(journal.stats.messages_rewritten).toBeGreaterThan(0);
    expect(journal.stats.segments_deleted).toBeGreaterThan(0);
    expect(journal.disk_bytes).toBe(fileBytes(dir));
    expect(journal.disk_bytes).toBeLessThanOrEqual(2 * journal.live_bytes + SEGMENT_BYTES);
    const appended = journal.stats.bytes_written;
    expect(journal.disk_bytes).toBeLessThan(appended / 10);
    await journal.close();

    const { sink } = await replayOnly(dir);
    const inStuck = sink.inQueue("v\0stuck");
    expect(inStuck.map((c) => c.msgId)).toEqual(stuck);
    expect(inStuck.map((c) => c.redelivered)).toEqual(stuck.map((_, i) => i < 10));
    expect(sink.inQueue("v\0other").map((c) => c.msgId)).toEqual(stuck.filter((_, i) => i >= 20 && i % 2 === 1));
    expect(sink.inQueue("v\0busy")).toEqual([]);
  });

  test("a crash after rewriting but before deleting the old segment replays each message once, in its rewritten state", async () => {
    const dir = tempDir();
    const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    const old = put(journal, ["v\0a", "v\0b"], "old");
    await churn(journal, 40, 200);
    journal.remove("v\0b", [old]);
    journal.delivered("v\0a", [old]);
    // Stop at the first durable batch after the rewrite: close() keeps the old segment.
    let closed: Promise<void> | undefined;
    journal.onDurable = () => {
      if (journal.stats.messages_rewritten > 0) closed ??= journal.close();
    };
    while (closed === undefined) {
      journal.remove("v\0busy", [put(journal, ["v\0busy"], "b".repeat(200))]);
      await journal.flush();
    }
    await closed;
    expect(fs.existsSync(segmentFiles(dir)[0]!)).toBe(true);
    expect(journal.stats.segments_deleted).toBe(0);

    const reopened = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
    expect(reopened.sink.calls).toEqual([{ queue: "v\0a", msgId: old, text: "old", redelivered: true }]);
    await reopened.journal.settle(); // now the superseded copy's segment goes
    expect(reopened.journal.stats.segments_deleted).toBeGreaterThan(0);
    await reopened.journal.close();
    const { sink } = await replayOnly(dir);
    expect(sink.calls).toEqual([{ queue: "v\0a", msgId: old, text: "old", redelivered: true }]);
  });
});
