import type { BatchBuffer, WriteBatch } from "./batch_buffer.ts";
import { fdatasync, fsyncDirectory, openFile, writeAllAt } from "./file_io.ts";
import type { JournalStats } from "./journal_stats.ts";

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Group commit: at most one batch is being written (and fdatasync'ed) at a time; records
 * appended meanwhile pile up in the BatchBuffer and go out together as the next batch.
 * There is no timer: the first append after an idle period starts a write at the end of
 * the current JS task, so a lone record is synced at once and batches grow only with load.
 */
export class GroupCommitter {
  /** Every record up to this seq is in its file (maybe only in the page cache). */
  written_seq = 0;
  /** Every record up to this seq is written and, when syncing, fdatasync'ed. */
  durable_seq = 0;
  /** The first write/sync error. After it nothing is written: an fsync failure leaves the page cache in an unknown state. */
  failure: Error | undefined;

  private running = false;
  private scheduled = false;
  /** Ordered by seq, since appends are. */
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly buffer: BatchBuffer,
    private readonly sync: boolean,
    private readonly dir_fd: number,
    private readonly stats: JournalStats,
    private readonly onBatchDurable: (seq: number) => void,
  ) {}

  /** Sets the starting point after replay: everything already on disk counts as durable. */
  start(seq: number): void {
    this.written_seq = seq;
    this.durable_seq = seq;
  }

  /** Called after appends: starts a batch at the end of this task unless one is in flight. */
  schedule(): void {
    if (this.running || this.scheduled || this.failure !== undefined) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  /** Resolves once everything up to seq is durable. */
  waitFor(seq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (seq <= this.durable_seq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    console.error(`[error] journal: ${err.message}; no further writes`);
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }

  private async run(): Promise<void> {
    if (this.running || this.failure !== undefined) return;
    this.running = true;
    try {
      for (let batch = this.buffer.take(); batch !== undefined; batch = this.buffer.take()) {
        await this.commit(batch);
        this.buffer.release(batch);
        this.durable_seq = batch.last_seq;
        this.stats.batches++;
        while (this.waiters[0] !== undefined && this.waiters[0].seq <= this.durable_seq) this.waiters.shift()!.resolve();
        this.onBatchDurable(this.durable_seq);
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.running = false;
    }
  }

  /**
   * Writes each segment's share of the batch and syncs it before touching the next
   * segment: a crash can then tear only the newest segment's tail, which replay repairs.
   * A new segment's directory entry is synced too, or the file could vanish in a crash.
   */
  private async commit(batch: WriteBatch): Promise<void> {
    for (const write of batch.writes) {
      const segment = write.segment;
      let fd = segment.fd;
      const created = fd === undefined;
      if (fd === undefined) {
        if (write.file_offset !== 0) throw new Error(`journal: first write to ${segment.path} is at ${write.file_offset}`);
        fd = await openFile(segment.path, "wx+");
        segment.fd = fd;
        this.stats.segments_created++;
      }
      await writeAllAt(
        fd,
        write.parts.map((part) => part.chunk.bytes.subarray(part.start, part.end)),
        write.file_offset,
      );
      this.stats.bytes_written += write.size_bytes;
      if (!this.sync) continue;
      await fdatasync(fd);
      this.stats.syncs++;
      if (created) {
        await fsyncDirectory(this.dir_fd);
        this.stats.syncs++;
      }
    }
    this.written_seq = batch.last_seq;
  }
}
