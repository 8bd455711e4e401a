/**
 * Test worker: reads records from job.request and either validates and
 * echoes them through job.response ("echo") or only checks their sequence
 * numbers ("count"). Serves jobs one after another for the test file's life.
 */
import { RingReader, RingWriter } from "../src/rings/ring.ts";
import { checkRecord } from "./ring_test_records.ts";
import type { EchoJob, EchoResult } from "./ring_test_records.ts";

declare const self: Worker;

/** Records per head publication in "count" mode: a batch, not the whole ring. */
const COUNT_RELEASE_EVERY = 256;

async function echo(job: EchoJob): Promise<EchoResult> {
  const reader = new RingReader(job.request);
  const writer = new RingWriter(job.response);
  let data_waits = 0;
  let space_waits = 0;
  let sequence = 0;
  while (sequence < job.records) {
    // Reserve the largest record first so the one we read can be copied
    // before anything is released; commit trims it to the real size.
    const target = writer.reserve(job.max_record_bytes);
    if (target < 0) {
      reader.release();
      space_waits++;
      await writer.waitForSpace(job.max_record_bytes);
      continue;
    }
    const source = reader.next();
    if (source < 0) {
      writer.publish();
      data_waits++;
      await reader.waitForData();
      continue;
    }
    const length = reader.recordLength;
    const error = checkRecord(reader.u8, reader.view, source, length, sequence, job.max_record_bytes);
    if (error !== null) return { error, records: sequence, data_waits, space_waits };
    writer.u8.set(reader.u8.subarray(source, source + length), target);
    writer.commit(length);
    sequence++;
    if (job.sleep_every > 0 && sequence % job.sleep_every === 0) {
      reader.release();
      writer.publish();
      await Bun.sleep(job.sleep_ms);
    }
  }
  reader.release();
  writer.publish();
  return { error: null, records: sequence, data_waits, space_waits };
}

async function count(job: EchoJob): Promise<EchoResult> {
  const reader = new RingReader(job.request);
  let data_waits = 0;
  let sequence = 0;
  while (sequence < job.records) {
    const source = reader.next();
    if (source < 0) {
      data_waits++;
      await reader.waitForData();
      continue;
    }
    if (reader.view.getUint32(source, true) !== sequence) {
      return { error: `expected record ${sequence}`, records: sequence, data_waits, space_waits: 0 };
    }
    sequence++;
    if (sequence % COUNT_RELEASE_EVERY === 0) reader.release();
  }
  reader.release();
  return { error: null, records: sequence, data_waits, space_waits: 0 };
}

let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<EchoJob>) => {
  const job = event.data;
  queue = queue.then(async () => {
    const result = job.mode === "echo" ? await echo(job) : await count(job);
    self.postMessage(result);
  });
};
