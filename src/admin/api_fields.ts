// Reading typed fields out of a request's JSON body: a wrong type is a 400 naming the field,
// never an exception deeper in the broker.
import { badRequest } from "./api_errors.ts";

type Body = Record<string, unknown>;

/** A boolean field; "true"/"false" strings are accepted too, as the management UI's forms send them. */
export function boolField(body: Body, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw badRequest(`${key} must be a boolean`);
}

export function stringField(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(`${key} must be a string`);
  return value;
}

export function objectField(body: Body, key: string): Record<string, unknown> {
  const value = body[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw badRequest(`${key} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** RabbitMQ's tags field: a comma-separated string or a list of strings. */
export function tagsField(value: unknown): string[] {
  const list = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : null;
  if (list === null || !list.every((t): t is string => typeof t === "string")) throw badRequest("tags must be a string or a list of strings");
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ""))];
}

/** Queue and exchange names are AMQP shortstrs: a longer one could never be used by a client. */
export function checkAmqpName(kind: "queue" | "exchange", name: string): void {
  if (Buffer.byteLength(name, "utf8") > 255) throw badRequest(`${kind} name is longer than 255 bytes`);
}
