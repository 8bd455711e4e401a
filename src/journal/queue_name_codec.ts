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

  /** Decodes and interns; throws a TypeError on invalid UTF-8. */
  decode(bytes: Uint8Array): string {
    const name = this.decoder.decode(bytes);
    const known = this.interned.get(name);
    if (known !== undefined) return known;
    if (this.interned.size >= QueueNameCodec.CACHE_MAX_ENTRIES) this.interned.clear();
    this.interned.set(name, name);
    return name;
  }
}
