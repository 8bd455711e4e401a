// Names and texts as RabbitMQ forms them, so error messages read the same.
import { randomBytes } from "node:crypto";

/** rabbit_misc:rs/1 — "queue 'q' in vhost '/'". */
export function resourceName(kind: "queue" | "exchange", name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

/** A server-generated name: "amq.gen-" / "amq.ctag-" and 22 url-safe base64 characters. */
export function generatedName(prefix: "amq.gen-" | "amq.ctag-"): string {
  return prefix + randomBytes(16).toString("base64url");
}

/** Stable 32-bit FNV-1a hash, used to place a queue in a shard by vhost + name. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
