import type { FieldTable, FieldValue } from "../protocol/table.ts";
import { Decimal, Timestamp } from "../protocol/table.ts";

/**
 * Whether a message header value equals a binding's, as RabbitMQ's headers exchange decides it: the
 * decoded Erlang values are compared with `==`, ignoring the field types. So numbers of any width and
 * timestamps (seconds) compare by numeric value, and strings equal byte arrays with the same bytes.
 * Inside arrays and nested tables Erlang keeps the type tags, which the decoded JS values no longer
 * carry; there the comparison is by value too, key order mattering in tables as it does in Erlang.
 */
export function headerValueEquals(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a === "boolean" || typeof b === "boolean") return false;
  const na = numeric(a);
  if (na !== undefined) {
    const nb = numeric(b);
    return nb !== undefined && na == nb; // loose on purpose: 1 == 1n, as Erlang's 1 == 1.0
  }
  if (typeof a === "string" || a instanceof Uint8Array) {
    if (typeof a === "string" && typeof b === "string") return false; // a !== b
    if (typeof b !== "string" && !(b instanceof Uint8Array)) return false;
    return bytesEqual(bytesOf(a), bytesOf(b));
  }
  if (a instanceof Decimal) return b instanceof Decimal && a.scale === b.scale && a.value === b.value;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!headerValueEquals(a[i]!, b[i]!)) return false;
    return true;
  }
  if (Array.isArray(b) || typeof b !== "object" || b instanceof Decimal || b instanceof Uint8Array || b instanceof Timestamp) {
    return false;
  }
  return tablesEqual(a as FieldTable, b);
}

function numeric(v: FieldValue): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof Timestamp) return v.seconds;
  return undefined;
}

const utf8 = new TextEncoder();

function bytesOf(v: string | Uint8Array): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function tablesEqual(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const key = ka[i]!;
    if (key !== kb[i] || !headerValueEquals(a[key]!, b[key]!)) return false;
  }
  return true;
}
