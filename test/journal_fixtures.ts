// Shared set-up for the journal tests: temp dirs, a sink that records replay calls, and
// helpers to open a journal and replay it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Journal } from "../src/journal/journal.ts";
import type { JournalOptions, RecoveredMessages, ReplayResult, ReplaySink } from "../src/journal/journal.ts";

export interface ReplayedMessage {
  readonly queue: string;
  readonly msgId: number;
  readonly text: string;
  readonly redelivered: boolean;
}

/** Reads every recovered queue whole, queue by queue, in the order replay hands them over. */
export class RecordingSink implements ReplaySink {
  readonly calls: ReplayedMessage[] = [];

  queue(queue: string, messages: RecoveredMessages): void {
    const count = messages.count;
    const taken = messages.take(count, (msgId, buf, at, length, redelivered) => {
      this.calls.push({ queue, msgId, text: new TextDecoder().decode(buf.subarray(at, at + length)), redelivered });
    });
    if (taken !== count) throw new Error(`replay promised ${count} messages of ${queue}, read ${taken}`);
    messages.close();
  }

  inQueue(queue: string): ReplayedMessage[] {
    return this.calls.filter((call) => call.queue === queue);
  }
}

const made: string[] = [];

/** A fresh directory, removed by removeTempDirs(). */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-journal-"));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export interface Opened {
  readonly journal: Journal;
  readonly sink: RecordingSink;
  readonly result: ReplayResult;
}

/** Opens the journal in `dir` and replays it into a new RecordingSink. */
export function openJournal(dir: string, opts: Partial<JournalOptions> = {}): Opened {
  const journal = Journal.open({ dir, fsync: "always", ...opts });
  const sink = new RecordingSink();
  const result = journal.replay(sink);
  return { journal, sink, result };
}

/** Replays `dir` in a throwaway journal and closes it. */
export async function replayOnly(dir: string, opts: Partial<JournalOptions> = {}): Promise<Opened> {
  const opened = openJournal(dir, opts);
  await opened.journal.close();
  return opened;
}

/** Enqueues `text` to the queues under a new msgId; returns the msgId. */
export function put(journal: Journal, queues: readonly string[], text: string): number {
  const msgId = journal.nextMsgId();
  journal.enqueue(msgId, queues, bytes(text));
  return msgId;
}

/** Segment files in `dir`, oldest first. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".seg"))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Captures console.error lines while `fn` runs. */
export async function captureStderr<T>(fn: () => T | Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  try {
    return { value: await fn(), lines };
  } finally {
    console.error = original;
  }
}
