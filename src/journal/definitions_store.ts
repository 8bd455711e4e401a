import * as fs from "node:fs";
import * as path from "node:path";

/** Definitions are exchanges, queues, bindings, users: far below this even for big brokers. */
const DEFINITIONS_MAX_BYTES = 256 * 1024 * 1024;

/**
 * The broker's definitions as one JSON file, replaced atomically: the new content goes to
 * FILE.tmp, is fsync'ed, renamed over FILE, and the directory is fsync'ed. A crash leaves
 * either the old or the new file, never a mix; a leftover FILE.tmp is simply ignored (and
 * overwritten by the next save). Synchronous on purpose: definitions change rarely and
 * off the message path.
 */
export class DefinitionsStore {
  private readonly tmp_file: string;

  constructor(private readonly file: string) {
    this.tmp_file = `${file}.tmp`;
  }

  /** The saved definitions, or undefined when none were ever saved. Throws naming the file if it does not parse. */
  load(): unknown | undefined {
    let text: string;
    try {
      const size_bytes = fs.statSync(this.file).size;
      if (size_bytes > DEFINITIONS_MAX_BYTES) throw new Error(`definitions file ${this.file} is ${size_bytes} bytes, limit ${DEFINITIONS_MAX_BYTES}`);
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`definitions file ${this.file} is corrupt: ${(err as Error).message}`);
    }
  }

  save(defs: unknown): void {
    const text = JSON.stringify(defs);
    if (text === undefined) throw new TypeError("definitions are not JSON-serialisable");
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > DEFINITIONS_MAX_BYTES) throw new RangeError(`definitions are ${bytes.length} bytes, limit ${DEFINITIONS_MAX_BYTES}`);
    const dir = path.dirname(this.file);
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(this.tmp_file, "w");
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(this.tmp_file, this.file);
    const dir_fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dir_fd);
    } finally {
      fs.closeSync(dir_fd);
    }
  }
}
