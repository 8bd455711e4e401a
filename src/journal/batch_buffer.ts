import type { Segment } from "./segment.ts";

/** A reusable block of memory records are encoded into. */
export class BatchChunk {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  used = 0;
  /** Offset of the record that begins the latest write started in this chunk, or -1. */
  write_start = -1;

  constructor(size_bytes: number) {
    this.bytes = new Uint8Array(size_bytes);
    this.view = new DataView(this.bytes.buffer);
  }
}

/** A contiguous run of one chunk, written to consecutive file offsets. */
export interface BatchPart {
  readonly chunk: BatchChunk;
  readonly start: number;
  end: number;
}

/** Bytes for one segment file, starting at file_offset. */
export interface SegmentWrite {
  readonly segment: Segment;
  readonly file_offset: number;
  readonly parts: BatchPart[];
  size_bytes: number;
}

/** Everything appended between two hand-overs to the writer, in append order. */
export interface WriteBatch {
  readonly writes: SegmentWrite[];
  readonly chunks: BatchChunk[];
  last_seq: number;
  size_bytes: number;
}

/**
 * The growing batch records are encoded into while the previous batch is being written:
 * appends are memcpys into pooled chunks, never syscalls. take() hands the whole batch to
 * the writer and starts a new one; release() returns the chunks once they are on disk.
 */
export class BatchBuffer {
  static readonly CHUNK_BYTES = 256 * 1024;
  /** Chunks kept for reuse; more than this are left to the GC (bounds idle memory to 16 MiB). */
  static readonly POOL_MAX_CHUNKS = 64;

  private pending: WriteBatch | undefined;
  private inflight: WriteBatch | undefined;
  private readonly pool: BatchChunk[] = [];

  /** Bytes appended but not yet handed to the writer. */
  get pending_bytes(): number {
    return this.pending?.size_bytes ?? 0;
  }

  /**
   * Makes room for a record of size_bytes at file_offset of segment and returns the chunk
   * it goes into; the record occupies the chunk's last size_bytes of `used`.
   */
  reserve(segment: Segment, file_offset: number, size_bytes: number, seq: number): BatchChunk {
    const batch = (this.pending ??= { writes: [], chunks: [], last_seq: 0, size_bytes: 0 });
    let write = batch.writes.at(-1);
    let starts_write = false;
    if (write === undefined || write.segment !== segment) {
      write = { segment, file_offset, parts: [], size_bytes: 0 };
      batch.writes.push(write);
      starts_write = true;
    }
    if (write.file_offset + write.size_bytes !== file_offset) {
      throw new Error(`journal: append to ${segment.path} at ${file_offset} is not contiguous`);
    }
    let chunk = batch.chunks.at(-1);
    if (chunk === undefined || chunk.bytes.length - chunk.used < size_bytes) {
      chunk = this.newChunk(size_bytes);
      batch.chunks.push(chunk);
    }
    if (starts_write) chunk.write_start = chunk.used;
    const part = write.parts.at(-1);
    if (part !== undefined && part.chunk === chunk && part.end === chunk.used) {
      part.end += size_bytes;
    } else {
      write.parts.push({ chunk, start: chunk.used, end: chunk.used + size_bytes });
    }
    chunk.used += size_bytes;
    write.size_bytes += size_bytes;
    batch.size_bytes += size_bytes;
    batch.last_seq = seq;
    return chunk;
  }

  /** Hands the pending batch to the writer; only one may be in flight. */
  take(): WriteBatch | undefined {
    if (this.inflight !== undefined) throw new Error("journal: a batch is already in flight");
    this.inflight = this.pending;
    this.pending = undefined;
    return this.inflight;
  }

  /** The in-flight batch is on disk: its chunks may be reused. */
  release(batch: WriteBatch): void {
    if (batch !== this.inflight) throw new Error("journal: released a batch that is not in flight");
    this.inflight = undefined;
    for (const chunk of batch.chunks) {
      if (chunk.bytes.length !== BatchBuffer.CHUNK_BYTES || this.pool.length >= BatchBuffer.POOL_MAX_CHUNKS) continue;
      chunk.used = 0;
      chunk.write_start = -1;
      this.pool.push(chunk);
    }
  }

  private newChunk(min_bytes: number): BatchChunk {
    if (min_bytes > BatchBuffer.CHUNK_BYTES) return new BatchChunk(min_bytes);
    return this.pool.pop() ?? new BatchChunk(BatchBuffer.CHUNK_BYTES);
  }
}
