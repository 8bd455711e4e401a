// Per-vhost limits (max-connections, max-queues) and per-user limits (max-connections,
// max-channels), as RabbitMQ 3.x validates and enforces them: a negative value means no limit,
// 0 allows none, and the refusals carry RabbitMQ's codes and texts (verified against 3.10.8).
// Connections and channels are counted when a limit is set, by walking the open connections:
// no counter to keep in step with every way a connection or channel can end.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { compareBinaries, erlangTerm } from "./erlang_term.ts";
import type { Site } from "./topology/actor.ts";
import type { Vhost } from "./vhost.ts";

export type LimitKind = "vhost" | "user";

/** Limit name → value; keys in code-point order, as Warren prints them. */
export type LimitTable = Readonly<Record<string, number>>;

const NAMES: Record<LimitKind, readonly string[]> = {
  vhost: ["max-connections", "max-queues"],
  user: ["max-channels", "max-connections"],
};

/** What a limit check needs to know of an open connection (the acceptor's Connection). */
export interface LimitedConnection {
  readonly isOpen: boolean;
  readonly user: string;
  readonly vhost: { readonly name: string };
  readonly channelCount: number;
}

/**
 * Checks a limits object ({"max-queues": 10}) as RabbitMQ's parameter validation does: unknown
 * names first, then each value must be an integer. The error's detail is RabbitMQ's reason text
 * (vhost limits are wrapped in "Validation failed", user limits are not).
 */
export function validateLimits(kind: LimitKind, value: unknown): Record<string, number> {
  const fail = (reason: string): AmqpError =>
    new AmqpError(ReplyCode.preconditionFailed, kind === "vhost" ? `Validation failed\n\n${reason}\n` : reason);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw fail(`limits must be a JSON object, actually was ${erlangTerm(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  const unknown = entries.filter(([name]) => !NAMES[kind].includes(name));
  if (unknown.length > 0) {
    throw fail(`Unrecognised terms [${unknown.map(([k, v]) => `{${erlangTerm(k)},${erlangTerm(v)}}`).join(",")}] in ${kind === "vhost" ? "limits" : "user-limits"}`);
  }
  const out: Record<string, number> = {};
  for (const [name, v] of entries) {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw fail(`${name} should be a number, actually was ${erlangTerm(v)}`);
    out[name] = v;
  }
  return out;
}

/** One limit's value checked alone (PUT /api/vhost-limits/V/NAME). */
export function validateLimit(kind: LimitKind, name: string, value: unknown): number {
  return validateLimits(kind, { [name]: value })[name]!;
}

/** The table with its keys sorted. */
export function sortedLimits(table: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => compareBinaries(a, b)));
}

/** The limit in force, or null when there is none (absent or negative). */
function limitOf(table: LimitTable, name: string): number | null {
  const value = table[name];
  return value === undefined || value < 0 ? null : value;
}

/**
 * connection.open: the vhost's max-connections, then the user's, as RabbitMQ checks them (before
 * the vhost access check). `others` are the broker's connections; the opening one is not open yet.
 */
export function checkConnectionLimits(others: Iterable<LimitedConnection>, vhost: Vhost, user: string, userLimits: LimitTable): void {
  const vhostMax = limitOf(vhost.limits, "max-connections");
  if (vhostMax !== null && count(others, (c) => c.vhost.name === vhost.name) >= vhostMax) {
    throw new AmqpError(ReplyCode.notAllowed, `access to vhost '${vhost.name}' refused for user '${user}': connection limit (${vhostMax}) is reached`, "connection.open");
  }
  const userMax = limitOf(userLimits, "max-connections");
  if (userMax !== null && count(others, (c) => c.user === user) >= userMax) {
    throw new AmqpError(ReplyCode.notAllowed, `connection refused for user '${user}': user connection limit (${userMax}) is reached`, "connection.open");
  }
}

/** channel.open: the user's max-channels over all of its connections; RabbitMQ closes the connection (530, no method). */
export function checkChannelLimit(connections: Iterable<LimitedConnection>, user: string, userLimits: LimitTable): void {
  const max = limitOf(userLimits, "max-channels");
  if (max === null) return;
  let channels = 0;
  for (const c of connections) if (c.isOpen && c.user === user) channels += c.channelCount;
  if (channels >= max) {
    throw new AmqpError(ReplyCode.notAllowed, `number of channels opened for user '${user}' has reached the maximum allowed user limit of (${max})`);
  }
}

/** queue.declare of a new queue: the vhost's max-queues counts every queue in it. */
export function checkQueueLimit(vhost: Vhost, name: string, site: Site): void {
  const max = limitOf(vhost.limits, "max-queues");
  if (max !== null && vhost.queues.size >= max) {
    throw new AmqpError(ReplyCode.preconditionFailed, `cannot declare queue '${name}': queue limit in vhost '${vhost.name}' (${max}) is reached`, site);
  }
}

function count(connections: Iterable<LimitedConnection>, match: (c: LimitedConnection) => boolean): number {
  let n = 0;
  for (const c of connections) if (c.isOpen && match(c)) n++;
  return n;
}
