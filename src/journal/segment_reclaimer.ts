import { closeFile, fsyncDirectory, unlinkFile } from "./file_io.ts";
import type { JournalStats } from "./journal_stats.ts";
import type { MessageIndex } from "./message_index.ts";
import type { Segment } from "./segment.ts";
import { compactSegment } from "./segment_compactor.ts";
import type { CompactionHost } from "./segment_compactor.ts";

/** What the reclaimer needs from its journal. */
export interface ReclaimHost extends CompactionHost {
  readonly index: MessageIndex;
  readonly segment_bytes: number;
  /** The journal's segments, oldest first; the reclaimer removes the ones it deletes. */
  segments(): Segment[];
  disk_bytes(): number;
  durable_seq(): number;
  fail(err: Error): void;
}

/**
 * Gives disk space back, off the JS thread and one step at a time:
 *  - the oldest segment is deleted once nothing in it is live and the records that made it
 *    so are durable. Oldest first, because a segment's remove records refer to messages of
 *    older segments: deleting it first would bring those messages back at replay;
 *  - when the files exceed 2 x live bytes + 1 segment, the oldest segment's live messages
 *    are rewritten to the tail (compactSegment) so it can go, unless a recovered queue has
 *    still to read it (pinned). Live bytes are estimated per segment from its live share. Each such step frees a whole
 *    segment for at most its live bytes written, so disk use converges under that bound.
 * The newest segment is never deleted: its start record carries the msgId counter.
 */
export class SegmentReclaimer {
  private running: Promise<void> | undefined;
  private requested = false;

  constructor(
    private readonly host: ReclaimHost,
    private readonly dir_fd: number,
    private readonly sync: boolean,
    private readonly stats: JournalStats,
  ) {}

  /** Asks for a pass (after each durable batch); passes never overlap. */
  request(): void {
    this.requested = true;
    this.running ??= this.loop();
  }

  /** Resolves when the current pass, if any, is over. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    try {
      while (this.requested) {
        this.requested = false;
        await this.pass();
      }
    } catch (err) {
      this.host.fail(err as Error);
    }
    this.running = undefined;
  }

  private async pass(): Promise<void> {
    const host = this.host;
    for (;;) {
      if (!host.running()) return;
      const segments = host.segments();
      const oldest = segments[0];
      const durable = host.durable_seq();
      if (oldest === undefined || oldest === segments.at(-1) || oldest.last_seq > durable) return;
      if (oldest.live_count === 0) {
        if (oldest.release_seq > durable) return;
        await this.deleteOldest(oldest);
      } else if (oldest.pins === 0 && host.disk_bytes() > 2 * host.index.live_bytes + host.segment_bytes) {
        await compactSegment(oldest, host);
        return; // the segment goes once its rewrites are durable; that batch requests a pass
      } else {
        return;
      }
    }
  }

  private async deleteOldest(segment: Segment): Promise<void> {
    if (this.host.segments().shift() !== segment) throw new Error("journal: deleting a segment that is not the oldest");
    this.host.index.segmentDeleted(segment);
    const fd = segment.fd;
    segment.fd = undefined;
    if (fd !== undefined) await closeFile(fd);
    await unlinkFile(segment.path);
    // One at a time, each unlink synced before the next: a crash never leaves a hole in
    // the numbering, which replay would take for a lost segment.
    if (this.sync) {
      await fsyncDirectory(this.dir_fd);
      this.stats.syncs++;
    }
    this.stats.segments_deleted++;
  }
}
