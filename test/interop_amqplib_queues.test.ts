// amqplib (under Node) against `bun run server`: queue.declare in its forms, exclusive and
// auto-delete lifecycles, purge and delete counts, and the errors with RabbitMQ 3.x's codes and texts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { channelClosedWith, runScenario, type ScenarioResults } from "./clients/amqplib_results.ts";

let broker: BrokerProcess;
let results: ScenarioResults;

beforeAll(async () => {
  broker = await startBroker();
  results = await runScenario("amqplib_queues.mjs", broker.url);
}, 30_000);

afterAll(async () => {
  await broker.dispose();
});

const locked = (name: string) =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`;

function names(check: string): Record<string, string> {
  return results.get(check)["names"] as Record<string, string>;
}

function name(check: string): string {
  return results.get(check)["name"] as string;
}

test("the scenario script ran to the end", () => {
  expect(results.completed).toBe(true);
});

test("durable, transient, exclusive and auto-delete queues declare and redeclare equivalently", () => {
  const n = names("declare-flags");
  const declared = results.outcome("declare-flags", "results");
  const redeclared = results.outcome("declare-flags", "redeclare");
  const expected = Object.fromEntries(Object.entries(n).map(([k, q]) => [k, { queue: q, messageCount: 0, consumerCount: 0 }]));
  expect(declared).toEqual({ ok: true, value: expected });
  expect(redeclared).toEqual({ ok: true, value: expected });
});

test("redeclaring a queue with other auto-delete or durability is 406 with RabbitMQ's text", () => {
  const n = names("declare-flags");
  expect(channelClosedWith(results.outcome("declare-flags", "flippedAutoDelete"))).toEqual({
    code: 406,
    text: `PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '${n["autoDelete"]}' in vhost '/': received 'false' but current is 'true'`,
    classId: 50,
    methodId: 10,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("declare-flags", "flippedDurable"))).toEqual({
    code: 406,
    text: `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${n["durable"]}' in vhost '/': received 'false' but current is 'true'`,
    classId: 50,
    methodId: 10,
    closed: true,
  });
});

test("redeclaring non-durable queue 'q' as durable is 406 and leaves it in place", () => {
  expect(channelClosedWith(results.outcome("inequivalent-durable", "result"))).toEqual({
    code: 406,
    text: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
    classId: 50,
    methodId: 10,
    closed: true,
  });
  expect(results.outcome("inequivalent-durable", "stillThere")).toEqual({ ok: true, value: { queue: "q", messageCount: 0, consumerCount: 0 } });
});

test("redeclaring with another x-max-length is 406 quoting both values; the same value is fine", () => {
  const q = name("inequivalent-arguments");
  expect(channelClosedWith(results.outcome("inequivalent-arguments", "different"))).toMatchObject({
    code: 406,
    text: `PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '${q}' in vhost '/': received '20' but current is '10'`,
  });
  expect(results.outcome("inequivalent-arguments", "same").ok).toBe(true);
});

test("an empty name gets a server-generated amq.gen- name that is a working queue", () => {
  const r = results.get("server-named") as { ok: boolean; value: { first: { queue: string }; second: { queue: string }; body: string | null } };
  expect(r.ok).toBe(true);
  // RabbitMQ: "amq.gen-" and 16 random bytes in URL-safe base64 (22 characters).
  expect(r.value.first.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
  expect(r.value.second.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
  expect(r.value.first.queue).not.toBe(r.value.second.queue);
  expect(r.value.body).toBe("to-generated");
});

test("a passive declare of a missing queue is 404 NOT_FOUND", () => {
  const q = name("passive-missing");
  expect(channelClosedWith(results.outcome("passive-missing", "result"))).toEqual({
    code: 404,
    text: `NOT_FOUND - no queue '${q}' in vhost '/'`,
    classId: 50,
    methodId: 10,
    closed: true,
  });
});

test("a passive declare and an equivalent redeclare report message and consumer counts", () => {
  const n = names("passive-existing-counts");
  const expected = {
    ok: true,
    value: {
      withMessages: { queue: n["withMessages"], messageCount: 3, consumerCount: 0 },
      withConsumer: { queue: n["withConsumer"], messageCount: 0, consumerCount: 1 },
    },
  };
  expect(results.outcome("passive-existing-counts", "passive")).toEqual(expected);
  expect(results.outcome("passive-existing-counts", "redeclared")).toEqual(expected);
});

test("another connection touching an exclusive queue gets 405 RESOURCE_LOCKED for every method", () => {
  const q = name("exclusive-other-connection");
  const expected: Record<string, [number, number]> = {
    declare: [50, 10],
    declareNonExclusive: [50, 10],
    passive: [50, 10],
    bind: [50, 20],
    consume: [60, 20],
    get: [60, 70],
    purge: [50, 30],
    delete: [50, 40],
  };
  for (const [method, [classId, methodId]] of Object.entries(expected)) {
    expect({ method, ...channelClosedWith(results.outcome("exclusive-other-connection", "attempts", method)) }).toEqual({
      method,
      code: 405,
      text: locked(q),
      classId,
      methodId,
      closed: true,
    });
  }
  // The owner is unaffected.
  expect(results.outcome("exclusive-other-connection", "owner").ok).toBe(true);
});

test("an exclusive queue is deleted when its connection closes", () => {
  const q = name("exclusive-gone-with-connection");
  const r = results.get("exclusive-gone-with-connection") as { after: { gone: boolean; error?: { code: number; message: string } } };
  // Before the close it existed (and was locked to its owner).
  expect(channelClosedWith(results.outcome("exclusive-gone-with-connection", "beforeClose")).code).toBe(405);
  expect(r.after.gone).toBe(true);
  expect(r.after.error?.code).toBe(404);
  expect(r.after.error?.message).toContain(`NOT_FOUND - no queue '${q}' in vhost '/'`);
});

test("an auto-delete queue stays until its last consumer cancels, then is deleted", () => {
  const q = name("auto-delete-after-last-consumer");
  expect(results.outcome("auto-delete-after-last-consumer", "neverConsumed")).toEqual({ ok: true, value: { queue: q, messageCount: 0, consumerCount: 0 } });
  expect(results.outcome("auto-delete-after-last-consumer", "afterFirstCancel")).toEqual({ ok: true, value: { queue: q, messageCount: 0, consumerCount: 1 } });
  const after = results.get("auto-delete-after-last-consumer")["after"] as { gone: boolean; error?: { code: number } };
  expect(after.gone).toBe(true);
  expect(after.error?.code).toBe(404);
});

test("an auto-delete queue is deleted when the channel of its only consumer closes", () => {
  const after = results.get("auto-delete-after-consumer-channel-closes")["after"] as { gone: boolean; error?: { code: number } };
  expect(after.gone).toBe(true);
  expect(after.error?.code).toBe(404);
});

test("queue.purge returns the number of messages purged; purging a missing queue is 404", () => {
  const q = name("purge-count");
  expect(results.outcome("purge-count", "result")).toEqual({
    ok: true,
    value: { first: { messageCount: 5 }, second: { messageCount: 0 }, after: { queue: q, messageCount: 0, consumerCount: 0 } },
  });
  const missing = channelClosedWith(results.outcome("purge-count", "missing"));
  expect(missing).toMatchObject({ code: 404, classId: 50, methodId: 30, closed: true });
  expect(missing.text).toMatch(/^NOT_FOUND - no queue 'nope-[^']+' in vhost '\/'$/);
});

test("queue.delete returns the message count; deleting a missing queue succeeds with 0", () => {
  const q = name("delete-count");
  expect(results.outcome("delete-count", "result")).toEqual({ ok: true, value: { messageCount: 4 } });
  expect(channelClosedWith(results.outcome("delete-count", "after"))).toMatchObject({ code: 404, text: `NOT_FOUND - no queue '${q}' in vhost '/'` });
  expect(results.outcome("delete-count", "missing")).toEqual({ ok: true, value: { messageCount: 0 } });
});

test("queue.delete if-unused on a queue with a consumer is 406 and keeps the queue", () => {
  const q = name("delete-if-unused");
  expect(channelClosedWith(results.outcome("delete-if-unused", "inUse"))).toEqual({
    code: 406,
    text: `PRECONDITION_FAILED - queue '${q}' in vhost '/' in use`,
    classId: 50,
    methodId: 40,
    closed: true,
  });
  expect(results.outcome("delete-if-unused", "stillThere")).toEqual({ ok: true, value: { queue: q, messageCount: 0, consumerCount: 1 } });
  expect(results.outcome("delete-if-unused", "unused")).toEqual({ ok: true, value: { messageCount: 0 } });
});

test("queue.delete if-empty on a queue with messages is 406 and keeps the messages", () => {
  const q = name("delete-if-empty");
  expect(channelClosedWith(results.outcome("delete-if-empty", "notEmpty"))).toEqual({
    code: 406,
    text: `PRECONDITION_FAILED - queue '${q}' in vhost '/' not empty`,
    classId: 50,
    methodId: 40,
    closed: true,
  });
  expect(results.outcome("delete-if-empty", "stillThere")).toEqual({ ok: true, value: { queue: q, messageCount: 2, consumerCount: 0 } });
  expect(results.outcome("delete-if-empty", "empty")).toEqual({ ok: true, value: { messageCount: 0 } });
});

test("declaring queue 'amq.x' is 403 ACCESS_REFUSED; a passive declare of it is 404", () => {
  expect(channelClosedWith(results.outcome("reserved-name", "result"))).toEqual({
    code: 403,
    text: "ACCESS_REFUSED - queue name 'amq.x' contains reserved prefix 'amq.*'",
    classId: 50,
    methodId: 10,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("reserved-name", "passive"))).toMatchObject({ code: 404, text: "NOT_FOUND - no queue 'amq.x' in vhost '/'" });
});

test("a passive declare of '' looks up '' itself (404), even after the channel declared a queue", () => {
  expect(channelClosedWith(results.outcome("passive-empty-name"))).toEqual({
    code: 404,
    text: "NOT_FOUND - no queue '' in vhost '/'",
    classId: 50,
    methodId: 10,
    closed: true,
  });
});

test("invalid x-max-length, x-max-length-bytes and x-overflow are 406 with RabbitMQ's texts and create nothing", () => {
  const q = name("argument-errors");
  const invalid = (key: string, error: string) => ({
    code: 406,
    text: `PRECONDITION_FAILED - invalid arg '${key}' for queue '${q}' in vhost '/': ${error}`,
    classId: 50,
    methodId: 10,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("argument-errors", "negative"))).toEqual(invalid("x-max-length", "{value_negative,-1}"));
  expect(channelClosedWith(results.outcome("argument-errors", "negativeBytes"))).toEqual(invalid("x-max-length-bytes", "{value_negative,-5}"));
  expect(channelClosedWith(results.outcome("argument-errors", "notInteger"))).toEqual(invalid("x-max-length", '"expected integer, got longstr"'));
  expect(channelClosedWith(results.outcome("argument-errors", "fraction"))).toEqual(invalid("x-max-length", '"expected integer, got double"'));
  expect(channelClosedWith(results.outcome("argument-errors", "overflow"))).toEqual(invalid("x-overflow", "invalid_overflow"));
  expect(channelClosedWith(results.outcome("argument-errors", "created")).code).toBe(404);
});

test("redeclaring without a string argument the queue has names its type; with another value quotes both", () => {
  const q = results.get("argument-errors")["overflowQueue"] as string;
  expect(channelClosedWith(results.outcome("argument-errors", "overflowDropped")).text).toBe(
    `PRECONDITION_FAILED - inequivalent arg 'x-overflow' for queue '${q}' in vhost '/': received none but current is the value 'drop-head' of type 'longstr'`,
  );
  expect(channelClosedWith(results.outcome("argument-errors", "overflowChanged")).text).toBe(
    `PRECONDITION_FAILED - inequivalent arg 'x-overflow' for queue '${q}' in vhost '/': received 'reject-publish' but current is 'drop-head'`,
  );
});
