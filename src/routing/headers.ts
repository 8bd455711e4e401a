import { invariant } from "../invariant.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { FieldTable, FieldValue } from "../protocol/table.ts";
import { Decimal, Timestamp } from "../protocol/table.ts";
import type { BindingRecord } from "./binding.ts";
import { headerValueEquals } from "./header_equality.ts";
import type { RouteSink, Router } from "./router.ts";

const X_MATCH_MODES = ["all", "any", "all-with-x", "any-with-x"] as const;

/**
 * Rejects a headers binding whose x-match RabbitMQ refuses (rabbit_exchange_type_headers:
 * validate_binding): it must be absent or the longstr all, any, all-with-x or any-with-x.
 * Throws PRECONDITION_FAILED (406), as rabbit_channel does for binding_invalid.
 */
export function validateHeadersBinding(args: FieldTable): void {
  const mode = args["x-match"];
  if (mode === undefined) return;
  if (typeof mode !== "string") {
    throw new AmqpError(
      ReplyCode.preconditionFailed,
      `Invalid x-match field type ${erlangTypeName(mode)} (value ${String(mode)}); expected longstr`,
    );
  }
  if (!(X_MATCH_MODES as readonly string[]).includes(mode)) {
    throw new AmqpError(
      ReplyCode.preconditionFailed,
      `Invalid x-match field value <<"${mode}">>; expected all, any, all-with-x, or any-with-x`,
    );
  }
}

/** A binding's arguments compiled once into the pairs x-match compares. */
interface HeadersMatcher {
  readonly binding: BindingRecord;
  readonly all: boolean;
  readonly keys: string[];
  /** Parallel to keys; null (void) means the header only has to be present. */
  readonly values: FieldValue[];
}

function compile(binding: BindingRecord): HeadersMatcher {
  const args = binding.def.arguments;
  const mode = args["x-match"];
  // Anything but a valid mode means "all": RabbitMQ's parse_x_match default for legacy bindings.
  const all = mode !== "any" && mode !== "any-with-x";
  const withX = mode === "all-with-x" || mode === "any-with-x";
  const keys: string[] = [];
  const values: FieldValue[] = [];
  for (const key of Object.keys(args)) {
    // x-match itself never takes part; other x- keys only in the -with-x modes (RabbitMQ 3.10+).
    if (key === "x-match" || (!withX && key.startsWith("x-"))) continue;
    keys.push(key);
    values.push(args[key] ?? null);
  }
  return { binding, all, keys, values };
}

function matches(m: HeadersMatcher, headers: FieldTable): boolean {
  const { keys, values } = m;
  if (m.all) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (!Object.hasOwn(headers, key)) return false;
      const want = values[i]!;
      if (want !== null && !headerValueEquals(want, headers[key]!)) return false;
    }
    return true;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(headers, key)) continue;
    const want = values[i]!;
    if (want === null || headerValueEquals(want, headers[key]!)) return true;
  }
  return false;
}

const NO_HEADERS: FieldTable = Object.freeze({});

/**
 * Headers exchange: each binding's arguments are a pattern over the message headers; the routing key
 * is ignored. x-match all needs every pattern key present and equal (so an empty pattern matches every
 * message); any needs one (so an empty pattern matches none). A void pattern value matches presence.
 */
export class HeadersRouter implements Router {
  readonly #matchers: HeadersMatcher[] = [];

  add(binding: BindingRecord): void {
    this.#matchers.push(compile(binding));
  }

  remove(binding: BindingRecord): void {
    const at = this.#matchers.findIndex((m) => m.binding === binding);
    invariant(at >= 0, "routing", "headers binding not present");
    this.#matchers.splice(at, 1);
  }

  route(_routingKey: string, sink: RouteSink): void {
    const list = this.#matchers;
    if (list.length === 0) return;
    const headers = sink.headers() ?? NO_HEADERS;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      if (matches(m, headers)) sink.deliver(m.binding);
    }
  }
}

/** The Erlang field type RabbitMQ would name in its error text, as near as the decoded value tells. */
function erlangTypeName(v: FieldValue): string {
  if (v === null) return "void";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "long" : "double";
  if (typeof v === "bigint") return "long";
  if (v instanceof Uint8Array) return "binary";
  if (v instanceof Timestamp) return "timestamp";
  if (v instanceof Decimal) return "decimal";
  if (Array.isArray(v)) return "array";
  return "table";
}
