// A message's basic properties and payload in the management API's JSON, as RabbitMQ's
// rabbit_mgmt_format writes and reads them: snake_case keys ("delivery_mode", "headers", ...),
// field tables as JSON objects, payloads as a string or base64. Unknown property keys are
// ignored and wrong types are 400s, as in RabbitMQ.
import { tableFromJson, tableToJson } from "../broker/definitions.ts";
import type { BasicProperties } from "../protocol/properties.ts";
import { badRequest } from "./api_errors.ts";

type StringProperty = "contentType" | "contentEncoding" | "correlationId" | "replyTo" | "expiration" | "messageId" | "type" | "userId" | "appId" | "clusterId";

/** JSON key → property, in the wire order of the property flags. */
const STRING_PROPERTIES: [string, StringProperty][] = [
  ["content_type", "contentType"],
  ["content_encoding", "contentEncoding"],
  ["correlation_id", "correlationId"],
  ["reply_to", "replyTo"],
  ["expiration", "expiration"],
  ["message_id", "messageId"],
  ["type", "type"],
  ["user_id", "userId"],
  ["app_id", "appId"],
  ["cluster_id", "clusterId"],
];

/** An AMQP shortstr holds at most 255 bytes. */
const SHORTSTR_MAX_BYTES = 255;

/** The properties object of a publish request. */
export function propertiesFromJson(json: Record<string, unknown>): BasicProperties {
  const props: BasicProperties = {};
  for (const [key, name] of STRING_PROPERTIES) {
    const value = json[key];
    if (value === undefined) continue;
    if (typeof value !== "string") throw badRequest(["not_string", key]);
    if (Buffer.byteLength(value, "utf8") > SHORTSTR_MAX_BYTES) throw badRequest(`${key} is longer than ${SHORTSTR_MAX_BYTES} bytes`);
    props[name] = value;
  }
  const mode = octet(json, "delivery_mode");
  if (mode !== undefined) props.deliveryMode = mode;
  const priority = octet(json, "priority");
  if (priority !== undefined) props.priority = priority;
  const timestamp = json["timestamp"];
  if (timestamp !== undefined) {
    if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp < 0) throw badRequest(["not_int", "timestamp"]);
    props.timestamp = BigInt(timestamp);
  }
  const headers = json["headers"];
  if (headers !== undefined) {
    if (headers === null || typeof headers !== "object" || Array.isArray(headers)) throw badRequest(["not_table", "headers"]);
    props.headers = tableFromJson(headers as Record<string, unknown>);
  }
  return props;
}

/** RabbitMQ takes integers (or integer strings, as its UI's forms send them) for the octets. */
function octet(json: Record<string, unknown>, key: string): number | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 255) throw badRequest(["not_int", key]);
  return n;
}

/**
 * The properties of a got message. RabbitMQ 3.10 writes a message without properties as an
 * empty list ([]) rather than {}: an Erlang empty proplist; kept so clients see the same JSON.
 */
export function propertiesToJson(props: BasicProperties): Record<string, unknown> | [] {
  const out: Record<string, unknown> = {};
  if (props.contentType !== undefined) out["content_type"] = props.contentType;
  if (props.contentEncoding !== undefined) out["content_encoding"] = props.contentEncoding;
  if (props.headers !== undefined) out["headers"] = tableToJson(props.headers);
  if (props.deliveryMode !== undefined) out["delivery_mode"] = props.deliveryMode;
  if (props.priority !== undefined) out["priority"] = props.priority;
  for (const [key, name] of STRING_PROPERTIES.slice(2)) {
    const value = props[name];
    if (value !== undefined) out[key] = value;
  }
  if (props.timestamp !== undefined) {
    const seconds = Number(props.timestamp);
    out["timestamp"] = Number.isSafeInteger(seconds) ? seconds : props.timestamp.toString();
  }
  return Object.keys(out).length === 0 ? [] : out;
}

/** A publish request's payload as bytes: payload_encoding "string" (UTF-8) or "base64". */
export function payloadFromJson(payload: unknown, encoding: unknown): Uint8Array {
  if (typeof payload !== "string") throw badRequest("payload_not_string");
  if (encoding === "string") return new TextEncoder().encode(payload);
  if (encoding !== "base64") throw badRequest(["unsupported_encoding", String(encoding)]);
  // Buffer.from(…, "base64") skips bad characters silently; RabbitMQ refuses them.
  const compact = payload.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) throw badRequest(["not_base64", payload]);
  return new Uint8Array(Buffer.from(compact, "base64"));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A got message's payload: "auto" gives a string when the bytes are UTF-8, base64 otherwise. */
export function payloadToJson(body: Uint8Array, encoding: "auto" | "base64"): { payload: string; payload_encoding: "string" | "base64" } {
  if (encoding === "auto") {
    try {
      return { payload: strictUtf8.decode(body), payload_encoding: "string" };
    } catch {
      // not UTF-8: base64 below
    }
  }
  return { payload: Buffer.from(body).toString("base64"), payload_encoding: "base64" };
}
