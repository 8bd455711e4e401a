/** The journal's files are damaged somewhere replay cannot repair by truncating the tail. */
export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`journal corrupt: ${file} at offset ${offset}: ${reason}`);
    this.name = "JournalCorruptError";
  }
}
