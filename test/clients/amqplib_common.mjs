// Shared helpers for the amqplib interop scripts (run under Node by test/support/node_script.ts).
// Each script performs a scenario against the URL in argv[2] and prints one JSON line per check:
// {"check": "<name>", ...what it observed}. The bun tests parse those lines and assert on them, so
// a script reports what happened rather than deciding whether it was right.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// connection.close frames the client received, with their fields. amqplib reports a close during
// the handshake only as "Expected ConnectionOpenOk; got <ConnectionClose>", without the reply code
// and text; frame.js takes defs.decode when it loads, so wrapping it first lets the scripts see them.
// The same hook keeps the raw property bytes of the last content headers received, so a script can
// check that properties arrive byte for byte as they were sent (field-table type tags included).
export const connectionCloses = [];
export const receivedPropertyBytes = [];
export const defs = require("amqplib/lib/defs");
const decode = defs.decode;
defs.decode = (id, buf) => {
  const fields = decode(id, buf);
  if (id === defs.ConnectionClose) connectionCloses.push(fields);
  if (id === defs.BasicProperties) {
    receivedPropertyBytes.push(Buffer.from(buf));
    if (receivedPropertyBytes.length > 16) receivedPropertyBytes.shift();
  }
  return fields;
};
export const amqp = require("amqplib");

export const url = process.argv[2];
if (url === undefined) {
  console.error("usage: node <script> AMQP_URL");
  process.exit(2);
}

/** Prints one observation. Buffers become {base64} so a body survives JSON. */
export function emit(check, data = {}) {
  process.stdout.write(JSON.stringify({ check, ...data }, jsonReplacer) + "\n");
}

function jsonReplacer(_key, value) {
  if (value !== null && typeof value === "object" && value.type === "Buffer" && Array.isArray(value.data)) {
    return { base64: Buffer.from(value.data).toString("base64") };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** What an amqplib error tells a user: the reply code and the message that carries the reply text. */
export function describeError(err) {
  if (err === null || err === undefined) return null;
  // ch.get rejects with the channel.close frame itself rather than an Error.
  if (err.fields !== undefined && err.fields.replyCode !== undefined) {
    return { code: err.fields.replyCode, message: err.fields.replyText, classId: err.fields.classId, methodId: err.fields.methodId };
  }
  return { code: err.code ?? null, message: String(err.message ?? err), classId: err.classId ?? null, methodId: err.methodId ?? null };
}

/** Rejects after ms so that a missing reply fails the check instead of hanging the script. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs fn on a fresh channel and reports {ok, value} or {ok: false, error, closed}: `closed` is
 * the channel close's code as the 'close'/'error' events saw it. The channel is closed afterwards
 * if it is still open. Channel errors close the channel, so every error check gets its own.
 */
export async function onFreshChannel(conn, fn, { confirm = false } = {}) {
  const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
  let channelError = null;
  let closed = false;
  const closedPromise = new Promise((resolve) => ch.once("close", () => { closed = true; resolve(); }));
  ch.on("error", (err) => { channelError = err; });
  try {
    const value = await within(Promise.resolve(fn(ch)), 10_000, "channel operation");
    return { ok: true, value };
  } catch (err) {
    // The rejection comes from the close frame; let the 'error' event land too.
    await within(closedPromise, 5_000, "channel close").catch(() => {});
    return { ok: false, error: describeError(err), channelError: describeError(channelError), closed };
  } finally {
    if (!closed) await ch.close().catch(() => {});
  }
}

/** Runs a check, reporting an unexpected exception as {check, crashed} rather than dying. */
export async function check(name, fn) {
  try {
    const data = await within(Promise.resolve(fn()), 15_000, name);
    emit(name, data ?? {});
  } catch (err) {
    emit(name, { crashed: describeError(err) });
  }
}

/** Consumes from queue until `count` messages arrived (or ms passed) and returns them. */
export async function collect(ch, queue, count, ms = 5_000, { noAck = true } = {}) {
  const messages = [];
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const { consumerTag } = await ch.consume(queue, (msg) => {
    if (msg === null) return;
    messages.push(msg);
    if (messages.length >= count) done();
  }, { noAck });
  const timer = setTimeout(done, ms);
  await finished;
  clearTimeout(timer);
  await ch.cancel(consumerTag);
  return messages;
}

/** Gets every message currently in the queue with basic.get (no ack). */
export async function drain(ch, queue) {
  const bodies = [];
  for (;;) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg === false) return bodies;
    bodies.push(msg.content.toString());
  }
}

/** A name unique to this run, so the script can run against a broker that already has state. */
export function unique(prefix) {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
