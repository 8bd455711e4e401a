import type { FieldTable, FieldValue } from "../protocol/table.ts";
import { Decimal, Timestamp } from "../protocol/table.ts";

export interface BindingDef {
  source: string;
  destination: string;
  destinationKind: "queue" | "exchange";
  routingKey: string;
  arguments: FieldTable;
}

/** A stored binding: the definition plus what routing and the indexes read on every use. */
export interface BindingRecord {
  readonly def: BindingDef;
  /** Equal for two bindings exactly when RabbitMQ considers them the same binding. */
  readonly identity: string;
  readonly toQueue: boolean;
}

export function bindingRecord(b: BindingDef): BindingRecord {
  const def: BindingDef = { ...b };
  return { def, identity: bindingIdentity(def), toQueue: def.destinationKind === "queue" };
}

/**
 * RabbitMQ keys a binding by {source, key, destination, args} with the top-level argument table sorted
 * by key (rabbit_binding sorts it on add and remove), so argument order does not make a new binding but
 * nested tables compare as sent.
 */
function bindingIdentity(b: BindingDef): string {
  return `${JSON.stringify([b.source, b.destinationKind, b.destination, b.routingKey])}${encodeTable(b.arguments, true)}`;
}

function encodeTable(table: FieldTable, sorted: boolean): string {
  const keys = Object.keys(table);
  if (sorted) keys.sort();
  let s = "{";
  for (const key of keys) s += `${JSON.stringify(key)}:${encodeValue(table[key] ?? null)},`;
  return `${s}}`;
}

/** A type-tagged encoding: values of different JS types never encode alike. */
function encodeValue(v: FieldValue): string {
  if (v === null) return "V";
  switch (typeof v) {
    case "boolean":
      return v ? "t" : "f";
    case "number":
      return `n${v}`;
    case "bigint":
      return `l${v}`;
    case "string":
      return `s${JSON.stringify(v)}`;
  }
  if (v instanceof Uint8Array) return `x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")};`;
  if (v instanceof Timestamp) return `T${v.seconds}`;
  if (v instanceof Decimal) return `D${v.scale},${v.value}`;
  if (Array.isArray(v)) return `[${v.map(encodeValue).join(",")}]`;
  return encodeTable(v, false);
}
