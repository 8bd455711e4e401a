// The part of a queue behind its memory window: messages that live only on disk until the window
// drains down to them. A FIFO of blocks (up to 1 MiB) in per-queue segment files (8 MiB); the tail
// block fills in memory and is written when full, older blocks are on disk only, and the head block
// is read back whole (one sequential read per ~14,000 small messages) when the window takes from it.
// What a paged message costs in RAM is its share of a block descriptor (~100 bytes per MiB).
//
// A queue's first tail block is 64 KiB and each next one twice the last, up to 1 MiB: a thousand
// queues just past their windows hold 64 MiB of tail blocks, not a gigabyte. Each block records its
// own file offset and length, so blocks of different sizes read back alike.
//
// Crash semantics: page files are a cache, never synced. A persistent message of a durable queue
// is in the shard's journal as well, which is what recovery reads; a transient message is gone
// after a restart, as it would be in memory. The shard deletes every page file at start-up.
//
// I/O errors never leave this class (they would kill the shard's receive loop, and every queue of
// the shard with it). A block that cannot be written (ENOSPC, EIO, a missing page directory) stays
// in memory and is read from there: nothing is lost, the queue just stops saving memory until a
// later block's write succeeds. A block that cannot be read back is lost from the queue: its
// transient messages are gone for good; its persistent messages of a durable queue are still in
// the journal (never removed from it) and come back at the next start-up.
//
// I/O is synchronous: writes land in the page cache (~0.3 ms per MiB) and a read happens once per
// block, so the shard's thread waits far less on it than on its own delivery work; fdatasync,
// which does block for milliseconds, is never called on these files.
import * as fs from "node:fs";
import * as path from "node:path";
import { invariant } from "../invariant.ts";
import { preadFully } from "../journal/file_io.ts";
import { log } from "../log.ts";
import { copyBytes } from "../copy_bytes.ts";
import type { Envelope, QueueEntry } from "./message.ts";
import type { ReadyMessages } from "./ready_queue.ts";

/** A block is written when it holds this much; a record larger than a block gets a block of its own. */
export const PAGE_BLOCK_BYTES = 1024 * 1024;
/** A queue's first tail block (and its first after draining); each next one doubles up to PAGE_BLOCK_BYTES. */
export const FIRST_BLOCK_BYTES = 64 * 1024;
/** Blocks are appended to a segment file until it passes this size; a segment is deleted once read. */
const SEGMENT_BYTES = 8 * 1024 * 1024;
/** u32 envelope length, f64 msgId, f64 position, f64 expiresAt_ms, u32 deliveryCount, u8 flags. */
const RECORD_HEADER_BYTES = 33;
const FLAG_PERSISTENT = 1;
const NO_BYTES = new Uint8Array(0);
const FLAG_REDELIVERED = 2;

class Block {
  /** The bytes while the block is being filled or has been read back; null while only on disk. */
  bytes: Uint8Array | null = null;
  view: DataView | null = null;
  length = 0;
  records = 0;
  /** Envelope bytes of the records not yet taken (what is lost if the block cannot be read back). */
  envelopeBytes = 0;
  /** Next record to take (the head block only). */
  readAt = 0;
  written = false;

  constructor(
    readonly segment: number,
    readonly fileOffset: number,
    bytes: Uint8Array,
  ) {
    this.hold(bytes);
  }

  hold(bytes: Uint8Array | null): void {
    this.bytes = bytes;
    this.view = bytes === null ? null : new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }
}

export class PagedMessages {
  private readonly blocks: Block[] = [];
  /** Index of the head block in `blocks` (blocks before it are gone; the array is compacted now and then). */
  private head = 0;
  private segment = 0;
  private segmentBytes = 0;
  private readonly fds = new Map<number, number>();
  /** A written tail block's buffer, for the next tail (nothing else refers to it); let go once the queue drains. */
  private spare: Uint8Array | null = null;
  /** Capacity of the next tail block. */
  private nextCapacity = FIRST_BLOCK_BYTES;
  /** A write / a read of this queue's page files failed (logged once each). */
  private writeFailed = false;
  private readFailed = false;
  count = 0;
  /** Envelope bytes of the paged messages. */
  bytes = 0;
  /** The message being moved into the window: ReadyMessages.push copies its fields. */
  private readonly scratch: { -readonly [K in keyof Envelope]: Envelope[K] } = { id: 0, buf: NO_BYTES, at: 0, length: 0, slab: null, persistent: false };
  /** The entry fields of the record takeHead took last. */
  private readonly taken = { position: 0, redelivered: false, expiresAt_ms: 0, deliveryCount: 0 };

  constructor(
    private readonly dir: string,
    /** The file name prefix: one queue's segments are `${prefix}.${segment}`. */
    private readonly prefix: string,
  ) {}

  /** Appends a message behind the ones already paged. */
  append(env: Envelope, position: number, redelivered: boolean, expiresAt_ms: number, deliveryCount: number): void {
    const size = RECORD_HEADER_BYTES + env.length;
    let tail = this.blocks.length > this.head ? this.blocks[this.blocks.length - 1]! : undefined;
    if (tail === undefined || tail.written || tail.length + size > tail.bytes!.length) {
      if (tail !== undefined && !tail.written) this.write(tail);
      tail = this.newBlock(size);
    }
    const b = tail.bytes!;
    const view = tail.view!;
    const at = tail.length;
    view.setUint32(at, env.length);
    view.setFloat64(at + 4, env.id);
    view.setFloat64(at + 12, position);
    view.setFloat64(at + 20, expiresAt_ms);
    view.setUint32(at + 28, deliveryCount);
    view.setUint8(at + 32, (env.persistent ? FLAG_PERSISTENT : 0) | (redelivered ? FLAG_REDELIVERED : 0));
    copyBytes(b, tail.length + RECORD_HEADER_BYTES, env.buf, env.at, env.length);
    tail.length += size;
    tail.records++;
    tail.envelopeBytes += env.length;
    this.count++;
    this.bytes += env.length;
  }

  /**
   * Moves messages from the head into `ready` until it holds `maxMessages` or `maxBytes` (at least
   * one message moves when any is paged). Returns the envelope bytes moved.
   */
  refill(ready: ReadyMessages, maxMessages: number, maxBytes: number): number {
    let moved = 0;
    const env = this.scratch;
    const t = this.taken;
    while (this.count > 0 && (ready.length < maxMessages && moved < maxBytes || moved === 0)) {
      if (!this.takeHead()) break; // unreadable, and nothing was paged behind it
      ready.push(env, t.position, t.redelivered, t.expiresAt_ms, t.deliveryCount);
      moved += env.length;
    }
    env.buf = NO_BYTES;
    return moved;
  }

  /** Takes every paged message out (in order) and deletes the files: purge and delete. */
  clear(each: (entry: QueueEntry) => void): void {
    const env = this.scratch;
    const t = this.taken;
    while (this.count > 0 && this.takeHead()) {
      each({ ...env, slab: null, position: t.position, redelivered: t.redelivered, expiresAt_ms: t.expiresAt_ms, deliveryCount: t.deliveryCount });
    }
    env.buf = NO_BYTES;
    this.close();
  }

  /**
   * Decodes the head record into `scratch` (its envelope) and `taken` (its entry fields) and takes
   * it off the head; false when there is none left that reads back.
   */
  private takeHead(): boolean {
    const block = this.headBlock();
    if (block === null) return false;
    const view = block.view!;
    const at = block.readAt;
    const length = view.getUint32(at);
    const flags = view.getUint8(at + 32);
    const env = this.scratch;
    env.id = view.getFloat64(at + 4);
    env.buf = block.bytes!;
    env.at = at + RECORD_HEADER_BYTES;
    env.length = length;
    env.persistent = (flags & FLAG_PERSISTENT) !== 0;
    const t = this.taken;
    t.position = view.getFloat64(at + 12);
    t.redelivered = (flags & FLAG_REDELIVERED) !== 0;
    t.expiresAt_ms = view.getFloat64(at + 20);
    t.deliveryCount = view.getUint32(at + 28);
    block.readAt += RECORD_HEADER_BYTES + length;
    block.records--;
    block.envelopeBytes -= length;
    this.count--;
    this.bytes -= length;
    if (block.records === 0) this.dropHead(); // its bytes stay alive through env.buf
    return true;
  }

  /** Closes and deletes every segment file (the queue is gone, or everything was taken). */
  close(): void {
    for (const segment of this.fds.keys()) this.closeSegment(segment);
    this.fds.clear();
    this.blocks.length = 0;
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.spare = null;
    this.nextCapacity = FIRST_BLOCK_BYTES;
  }

  /** Bytes of block buffers held in memory: the head's, the tail's and the spare. */
  get memoryBytes(): number {
    let held = this.spare?.length ?? 0;
    const head = this.blocks[this.head];
    const tail = this.blocks[this.blocks.length - 1];
    if (head !== undefined) held += head.bytes?.length ?? 0;
    if (tail !== undefined && tail !== head) held += tail.bytes?.length ?? 0;
    return held;
  }

  /**
   * The head block with its bytes in memory (read back from its segment if it was written out).
   * A block that does not read back is dropped with its messages (see the header): null when
   * nothing is left behind it.
   */
  private headBlock(): Block | null {
    for (;;) {
      const block = this.blocks[this.head];
      invariant(block !== undefined, "paged messages", "a paged message has a block");
      if (block.bytes !== null) return block;
      try {
        block.hold(this.readBlock(block));
        return block;
      } catch (err) {
        if (!this.readFailed) log.error(`page file ${this.file(block.segment)}: ${block.records} messages lost, the block does not read back (later unreadable blocks of this queue are not logged): ${String(err)}`);
        this.readFailed = true;
        this.count -= block.records;
        this.bytes -= block.envelopeBytes;
        block.records = 0;
        this.dropHead();
        if (this.count === 0) return null;
      }
    }
  }

  private readBlock(block: Block): Uint8Array {
    const fd = this.fds.get(block.segment);
    if (fd === undefined) throw new Error("its segment is not open");
    const bytes = new Uint8Array(block.length);
    const read = preadFully(fd, bytes, block.fileOffset);
    if (read < block.length) throw new Error(`the file ends at ${block.fileOffset + read}, before ${block.fileOffset + block.length}`);
    return bytes;
  }

  /** Closes and deletes a segment file; a failure only leaves a file the next start-up deletes. */
  private closeSegment(segment: number): void {
    const fd = this.fds.get(segment);
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(this.file(segment), { force: true });
    } catch (err) {
      log.warn(`page file ${this.file(segment)}: not deleted: ${String(err)}`);
    }
  }

  /** The head block is used up: forget it, and delete its segment when no later block is in it. */
  private dropHead(): void {
    const block = this.blocks[this.head]!;
    block.hold(null);
    this.head++;
    const next = this.blocks[this.head];
    if ((next === undefined || next.segment !== block.segment) && this.fds.has(block.segment)) {
      this.closeSegment(block.segment);
      this.fds.delete(block.segment);
    }
    if (this.head === this.blocks.length) {
      // Drained: nothing to reuse a spare for until the queue pages again, which starts small.
      this.blocks.length = 0;
      this.head = 0;
      this.spare = null;
      this.nextCapacity = FIRST_BLOCK_BYTES;
    } else if (this.head > 1024) {
      this.blocks.splice(0, this.head);
      this.head = 0;
    }
  }

  private newBlock(size: number): Block {
    const capacity = Math.max(this.nextCapacity, size);
    this.nextCapacity = Math.min(this.nextCapacity * 2, PAGE_BLOCK_BYTES);
    if (this.segmentBytes > 0 && this.segmentBytes + capacity > SEGMENT_BYTES) {
      this.segment++;
      this.segmentBytes = 0;
    }
    // A block's buffer, once written out, becomes the next tail's: a queue filling up allocates none.
    const reuse = this.spare !== null && capacity === this.spare.length;
    const block = new Block(this.segment, this.segmentBytes, reuse ? this.spare! : new Uint8Array(capacity));
    if (reuse) this.spare = null;
    this.segmentBytes += capacity;
    this.blocks.push(block);
    return block;
  }

  /**
   * Writes a full tail block to its segment; its bytes leave memory unless it is the head. When
   * the write fails the block keeps its bytes and is read from memory (nothing is lost); later
   * blocks try again.
   */
  private write(block: Block): void {
    try {
      let fd = this.fds.get(block.segment);
      if (fd === undefined) {
        fd = fs.openSync(this.file(block.segment), "w+");
        this.fds.set(block.segment, fd);
      }
      let written = 0;
      while (written < block.length) written += fs.writeSync(fd, block.bytes!, written, block.length - written, block.fileOffset + written);
    } catch (err) {
      if (!this.writeFailed) log.error(`page file ${this.file(block.segment)}: write failed, the queue keeps its messages in memory until a write succeeds: ${String(err)}`);
      this.writeFailed = true;
      // Not `written`: a later append must not go into it (it is no longer the tail), and it
      // reads back from its bytes.
      return;
    }
    if (this.writeFailed) log.info(`page file ${this.file(block.segment)}: writes succeed again`);
    this.writeFailed = false;
    block.written = true;
    if (block !== this.blocks[this.head]) {
      // Only a full-size buffer is worth keeping: smaller ones are not asked for again until a drain.
      if (block.bytes!.length === PAGE_BLOCK_BYTES) this.spare = block.bytes;
      block.hold(null);
    }
  }

  private file(segment: number): string {
    return path.join(this.dir, `${this.prefix}.${segment}`);
  }
}

/**
 * Empties a page directory of what an earlier run left (page files never outlive their process).
 * The old files are moved aside at once and deleted in the background: a stopped backlog of a
 * hundred million messages leaves gigabytes of them, and start-up need not wait for that.
 */
export function resetPageDir(dir: string): void {
  const aside = `${dir}.old-${process.pid}-${Date.now()}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, aside);
  fs.mkdirSync(dir, { recursive: true });
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.old-`;
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith(prefix)) fs.rm(path.join(parent, name), { recursive: true, force: true }, () => {});
  }
}
