import { QUEUE_NAME_MAX_BYTES } from "./record_format.ts";

/**
 * UTF-8 encoding and decoding of queue names with small caches: a shard has few queues but
 * writes and replays their names millions of times. Decoded names are interned so a million
 * replayed messages share one string per queue instead of a million copies.
 */
export class QueueNameCodec {
  /** Beyond this many distinct names a cache is simply emptied; it refills from use. */
  static readonly CACHE_MAX_ENTRIES = 4096;

  private readonly encoded = new Map<string, Uint8Array>();
  private readonly interned = new Map<string, string>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  /** The name's UTF-8 bytes; throws if they exceed QUEUE_NAME_MAX_BYTES. */
  encode(name: string): Uint8Array {
    const cached = this.encoded.get(name);
    if (cached !== undefined) return cached;
    const bytes = this.encoder.encode(name);
    if (bytes.length > QUEUE_NAME_MAX_BYTES) {
      throw new RangeError(`journal: queue name is ${bytes.length} bytes, limit ${QUEUE_NAME_MAX_BYTES}`);
    }
    if (this.encoded.size >= QueueNameCodec.CACHE_MAX_ENTRIES) this.encoded.clear();
    this.encoded.set(name, bytes);
    return bytes;
  }

  /**
   * Decodes and interns; throws a TypeError on invalid UTF-8. Consecutive records mostly name the
   * same queue: bytes equal to the last name's return it without decoding (replay's hot path).
   */
  decode(bytes: Uint8Array): string {
    const last = this.lastBytes;
    if (last !== null && last.length === bytes.length) {
      let same = true;
      for (let i = 0; i < bytes.length; i++) {
        if (last[i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastName;
    }
    const name = this.decodeNew(bytes);
    this.lastBytes = bytes.slice();
    this.lastName = name;
    return name;
  }

  private lastBytes: Uint8Array | null = null;
  private lastName = "";

  private decodeNew(bytes: Uint8Array): string {
    const name = this.decoder.decode(bytes);
    const known = this.interned.get(name);
    if (known !== undefined) return known;
    if (this.interned.size >= QueueNameCodec.CACHE_MAX_ENTRIES) this.interned.clear();
    this.interned.set(name, name);
    return name;
  }
}
