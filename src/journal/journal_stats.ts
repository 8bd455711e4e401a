/** Counters a journal exposes; tests and the admin API read them. */
export interface JournalStats {
  /** Group commits: one write (+ fdatasync) of everything appended meanwhile. */
  batches: number;
  /** fdatasync calls on segments plus fsync calls on the directory. */
  syncs: number;
  bytes_written: number;
  segments_created: number;
  segments_deleted: number;
  /** Live messages copied forward out of old segments. */
  messages_rewritten: number;
  /** Index snapshots written while running (every snapshotEveryRecords records). */
  snapshots_written: number;
}
