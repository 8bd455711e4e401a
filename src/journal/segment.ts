import * as path from "node:path";

const SEGMENT_NAME = /^(\d{10})\.seg$/;
/** Ten digits in the file name; at 64 MiB a segment that is 640 EB of appends. */
const SEGMENT_NUM_MAX = 9_999_999_999;

export function segmentFileName(num: number): string {
  return `${String(num).padStart(10, "0")}.seg`;
}

/** The segment number a file name encodes, or undefined for files that are not segments. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * One append-only segment file and the in-memory accounting that decides when it can go.
 * Nothing here is persisted: replay rebuilds it from the records.
 */
export class Segment {
  readonly path: string;
  /** Bytes appended, including those still in the write batch: the next record's file offset. */
  size_bytes = 0;
  /** Message records in this segment that are still live in at least one queue. */
  live_count = 0;
  /** Seq of the last record appended to this segment. */
  last_seq = 0;
  /**
   * Seq of the latest record that took a message of this segment out of the live set
   * (remove, drop, or rewrite forward). The file may be deleted only once that record is
   * durable, or a crash could bring back a state where the message is live but its
   * bytes are gone.
   */
  release_seq = 0;
  /** Open descriptor: read/write for segments this process created, read-only otherwise. */
  fd: number | undefined;

  constructor(
    readonly num: number,
    dir: string,
  ) {
    if (!Number.isSafeInteger(num) || num < 1 || num > SEGMENT_NUM_MAX) throw new RangeError(`journal: bad segment number ${num}`);
    this.path = path.join(dir, segmentFileName(num));
  }
}
