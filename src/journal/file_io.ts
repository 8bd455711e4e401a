import * as fs from "node:fs";

// Promise wrappers over node:fs *callback* APIs. Measured on Bun 1.4.5: these run on a
// worker thread (a 1 ms setInterval keeps ticking, max gap 2.6 ms, through 64 MiB writes
// and fdatasyncs), and cost ~254 µs per small write+fdatasync against ~283 µs for
// fs.promises. The shard's thread must never wait on the disk for a write, so nothing here is
// *Sync but preadFully, for the readers that are synchronous by design (replay at start-up,
// recovered messages and page blocks read back one block at a time).

/** writev may take at most IOV_MAX (1024 on Linux) buffers per call; stay well under. */
const BUFFERS_PER_WRITEV = 64;

export function openFile(file: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync of a directory descriptor: makes file creations and deletions in it durable. */
export function fsyncDirectory(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export function unlinkFile(file: string): Promise<void> {
  return new Promise((resolve, reject) => fs.unlink(file, (err) => (err ? reject(err) : resolve())));
}

export function readWholeFile(file: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => fs.readFile(file, (err, data) => (err ? reject(err) : resolve(data))));
}

/**
 * Reads `length` bytes at file `position` into `buf` from `at`, resuming after short reads;
 * returns the bytes read, fewer only when the file ends first (the caller says what that means).
 */
export function preadFully(fd: number, buf: Uint8Array, position: number, length = buf.length, at = 0): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, at + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `views` at `position`, resuming after short writes. */
export async function writeAllAt(fd: number, views: readonly Uint8Array[], position: number): Promise<void> {
  let pending = views.filter((view) => view.length > 0);
  while (pending.length > 0) {
    const slice = pending.slice(0, BUFFERS_PER_WRITEV);
    const written = await new Promise<number>((resolve, reject) =>
      fs.writev(fd, slice, position, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
    if (written <= 0) throw new Error(`journal: writev wrote ${written} bytes`);
    position += written;
    pending = skipBytes(pending, written);
  }
}

function skipBytes(views: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  for (const view of views) {
    if (bytes >= view.length) {
      bytes -= view.length;
      continue;
    }
    rest.push(bytes > 0 ? view.subarray(bytes) : view);
    bytes = 0;
  }
  return rest;
}
