import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { JournalCorruptError } from "../src/journal/journal.ts";
import { captureStderr, openJournal, put, removeTempDirs, replayOnly, segmentFiles, tempDir } from "./journal_fixtures.ts";

afterEach(removeTempDirs);

const SEGMENT_BYTES = 4096;
/** Record size of a 100-byte message to one "v\0q" queue: header 17 + id 8 + count 2 + name 2+3+1 + length 4 + payload. */
const RECORD_BYTES = 17 + 8 + 2 + 6 + 4 + 100;

/**
 * A journal of `count` 100-byte messages m0, m1, ... to one queue, closed. Each message is
 * its own write (flushed alone) unless it is among the last `last_write` ones, which go
 * out together.
 */
async function writeMessages(count: number, last_write = 1): Promise<string> {
  const dir = tempDir();
  const { journal } = openJournal(dir, { segment_bytes: SEGMENT_BYTES });
  for (let i = 0; i < count; i++) {
    put(journal, ["v\0q"], `m${i}`.padEnd(100, "."));
    if (i < count - last_write) await journal.flush();
  }
  await journal.close();
  return dir;
}

function texts(calls: readonly { text: string }[]): string[] {
  return calls.map((call) => call.text.replace(/\.+$/, ""));
}

function flipByte(file: string, offset: number): void {
  const data = fs.readFileSync(file);
  data[offset] = data[offset]! ^ 0x40;
  fs.writeFileSync(file, data);
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `m${from + i}`);
}

describe("journal recovery from damage", () => {
  test("a torn last record is truncated with a warning and replay continues; the journal appends after it", async () => {
    const dir = await writeMessages(10);
    const [file] = segmentFiles(dir);
    const size = fs.statSync(file!).size;
    fs.truncateSync(file!, size - 7);

    const { value, lines } = await captureStderr(() => replayOnly(dir));
    expect(texts(value.sink.calls)).toEqual(range(0, 9));
    expect(value.result.truncatedAt).toEqual({ file: file!, offset: size - RECORD_BYTES });
    expect(lines).toEqual([`[warn] journal: truncated torn tail of ${file} at ${size - RECORD_BYTES}`]);
    expect(fs.statSync(file!).size).toBe(size - RECORD_BYTES);

    const again = openJournal(dir);
    expect(again.result.truncatedAt).toBeUndefined();
    put(again.journal, ["v\0q"], "later");
    await again.journal.close();
    expect(texts((await replayOnly(dir)).sink.calls)).toEqual([...range(0, 9), "later"]);
  });

  test("garbage after the last record (a torn batch) is truncated", async () => {
    const dir = await writeMessages(3);
    const [file] = segmentFiles(dir);
    const size = fs.statSync(file!).size;
    fs.appendFileSync(file!, new Uint8Array(300)); // zero-filled tail, as after a crash mid-extend
    const { value } = await captureStderr(() => replayOnly(dir));
    expect(texts(value.sink.calls)).toEqual(range(0, 3));
    expect(value.result.truncatedAt?.offset).toBe(size);
  });

  test("a torn last write whose later pages reached the disk is cut at the tear", async () => {
    const dir = await writeMessages(10, 5); // m5..m9 in one write
    const [file] = segmentFiles(dir);
    const m7 = 39 + 7 * RECORD_BYTES;
    flipByte(file!, m7 + 60); // m8 and m9 are intact, but they belong to the same write
    const { value } = await captureStderr(() => replayOnly(dir));
    expect(texts(value.sink.calls)).toEqual(range(0, 7));
    expect(value.result.truncatedAt).toEqual({ file: file!, offset: m7 });
  });

  test("a flipped byte mid-segment throws JournalCorruptError naming the file; skipDamaged skips that record", async () => {
    const dir = await writeMessages(10);
    const [file] = segmentFiles(dir);
    const fifth = 39 + 4 * RECORD_BYTES; // after the 39-byte segment start record
    flipByte(file!, fifth + 60); // inside m4's payload

    const error = await replayOnly(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).file).toBe(file!);
    expect((error as JournalCorruptError).offset).toBe(fifth);
    expect((error as Error).message).toContain(file!);

    const { value, lines } = await captureStderr(() => replayOnly(dir, { skipDamaged: true }));
    expect(texts(value.sink.calls)).toEqual([...range(0, 4), ...range(5, 10)]);
    expect(lines).toEqual([`[warn] journal: skipped damaged record in ${file} at ${fifth}`]);
  });

  test("a flipped length field mid-segment is damage, not a torn tail", async () => {
    const dir = await writeMessages(10);
    const [file] = segmentFiles(dir);
    flipByte(file!, 39 + 4 * RECORD_BYTES + 2); // m4's record_bytes now points far past the end
    await expect(replayOnly(dir)).rejects.toBeInstanceOf(JournalCorruptError);
    const { value } = await captureStderr(() => replayOnly(dir, { skipDamaged: true }));
    expect(texts(value.sink.calls)).toEqual([...range(0, 4), ...range(5, 10)]);
  });

  test("a damaged tail in a segment that is not the newest is an error", async () => {
    const dir = await writeMessages(60);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    fs.truncateSync(files[0]!, fs.statSync(files[0]!).size - 7);
    const error = await replayOnly(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).file).toBe(files[0]!);
  });

  test("a segment missing from the numbered sequence is an error naming it; skipDamaged goes on", async () => {
    const dir = await writeMessages(100);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    fs.rmSync(files[1]!);
    const error = await replayOnly(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).file).toBe(files[1]!);
    const { value, lines } = await captureStderr(() => replayOnly(dir, { skipDamaged: true }));
    expect(value.result.segments).toBe(files.length - 1);
    expect(value.sink.calls.length).toBeLessThan(100);
    expect(lines[0]).toContain(files[1]!);
  });

  test("an unreadable segment is an error; skipDamaged skips it", async () => {
    const dir = await writeMessages(3);
    const unreadable = path.join(dir, "0000000002.seg");
    fs.mkdirSync(unreadable); // reading a directory fails with EISDIR, even as root
    const error = await replayOnly(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).file).toBe(unreadable);
    const { value } = await captureStderr(() => replayOnly(dir, { skipDamaged: true }));
    expect(texts(value.sink.calls)).toEqual(range(0, 3));
  });

  test("an empty segment file is an empty segment, and appending resumes after it", async () => {
    const dir = await writeMessages(3);
    fs.writeFileSync(path.join(dir, "0000000002.seg"), "");
    const { journal, sink, result } = openJournal(dir);
    expect(result.segments).toBe(2);
    expect(texts(sink.calls)).toEqual(range(0, 3));
    put(journal, ["v\0q"], "m3");
    await journal.close();
    expect(segmentFiles(dir).map((file) => path.basename(file))).toContain("0000000003.seg");
    expect(texts((await replayOnly(dir)).sink.calls)).toEqual(range(0, 4));
  });

  test("an empty directory replays nothing", async () => {
    const { result } = await replayOnly(tempDir());
    expect(result).toMatchObject({ messages: 0, segments: 0 });
  });
});
