// amqplib (under Node) against `bun run server`: direct, fanout, topic and headers routing end to
// end, the default and amq.* exchanges, exchange errors with RabbitMQ 3.x's codes and texts,
// internal, auto-delete and alternate exchanges, and exchange-to-exchange bindings.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { channelClosedWith, runScenario, type ScenarioResults } from "./clients/amqplib_results.ts";

let broker: BrokerProcess;
let results: ScenarioResults;

beforeAll(async () => {
  broker = await startBroker();
  results = await runScenario("amqplib_exchanges.mjs", broker.url);
}, 30_000);

afterAll(async () => {
  await broker.dispose();
});

const DEFAULT_REFUSED = "ACCESS_REFUSED - operation not permitted on the default exchange";

function str(check: string, key: string): string {
  return results.get(check)[key] as string;
}

test("the scenario script ran to the end", () => {
  expect(results.completed).toBe(true);
});

test("a direct exchange routes by exact routing key, to every queue bound with it", () => {
  expect(results.get("direct-routing")).toEqual({
    q1: ["to-a"],
    q2: ["to-b"],
    q3: ["to-a", "to-b"],
    q4: ["to-empty"],
  });
});

test("a fanout exchange routes every message to every bound queue whatever the keys", () => {
  const all = ["m1", "m2", "m3"];
  expect(results.get("fanout-routing")).toEqual({ q1: all, q2: all, q3: all });
});

test("a topic exchange matches * as one word and # as zero or more words", () => {
  // What RabbitMQ 3.10 delivers for these bindings (label "k:" + routing key).
  expect(results.get("topic-routing")).toEqual({
    "a.b.c": ["k:a.b.c"],
    "a.*": ["k:a.b", "k:a.c"],
    "a.#": ["k:a", "k:a..c", "k:a.b", "k:a.b.c", "k:a.b.c.d", "k:a.c", "k:a.x.y.c"],
    "#": ["k:", "k:a", "k:a..c", "k:a.b", "k:a.b.c", "k:a.b.c.d", "k:a.c", "k:a.x.y.c", "k:b", "k:c", "k:x.b.y", "k:x.y"],
    "*.b.*": ["k:a.b.c", "k:x.b.y"],
    "#.c": ["k:a..c", "k:a.b.c", "k:a.c", "k:a.x.y.c", "k:c"],
    "*": ["k:a", "k:b", "k:c"],
    "a.*.#": ["k:a..c", "k:a.b", "k:a.b.c", "k:a.b.c.d", "k:a.c", "k:a.x.y.c"],
    "*.*": ["k:a.b", "k:a.c", "k:x.y"],
    "a.#.c": ["k:a..c", "k:a.b.c", "k:a.c", "k:a.x.y.c"],
    "#.b.#": ["k:a.b", "k:a.b.c", "k:a.b.c.d", "k:b", "k:x.b.y"],
    "": ["k:"],
    "a..c": ["k:a..c"],
  });
});

test("a headers exchange matches x-match all and any (all by default), values typed", () => {
  expect(results.get("headers-routing")).toEqual({
    all: ["pdf-report", "pdf-report-extra"],
    any: ["log-only", "pdf-only", "pdf-report", "pdf-report-extra"],
    default: ["pdf-report", "pdf-report-extra"],
    // No headers to match: all matches everything, any matches nothing.
    "empty-all": ["log-only", "n-42", "n-42-string", "none", "pdf-only", "pdf-report", "pdf-report-extra", "zip-summary"],
    "empty-any": [],
    // The number 42 does not match the string "42".
    number: ["n-42"],
  });
});

test("declare (even passive), delete and bind on the default exchange are 403; publishing to it routes by queue name", () => {
  const expected: Record<string, [number, number]> = {
    declare: [40, 10],
    passive: [40, 10],
    delete: [40, 20],
    bindQueue: [50, 20],
    unbindQueue: [50, 50],
    bindExchangeSource: [40, 30],
    bindExchangeDestination: [40, 30],
  };
  for (const [method, [classId, methodId]] of Object.entries(expected)) {
    expect({ method, ...channelClosedWith(results.outcome("default-exchange", method)) }).toEqual({
      method,
      code: 403,
      text: DEFAULT_REFUSED,
      classId,
      methodId,
      closed: true,
    });
  }
  expect(results.outcome("default-exchange", "publish")).toEqual({ ok: true, value: ["via-default"] });
});

test("amq.direct, amq.fanout, amq.topic, amq.headers and amq.match exist and redeclare equivalently", () => {
  for (const name of ["amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"]) {
    expect({ name, ...results.outcome("amq-exchanges", "passive", name) }).toEqual({ name, ok: true, value: {} });
  }
  expect(results.outcome("amq-exchanges", "redeclareDirect")).toEqual({ ok: true, value: { exchange: "amq.direct" } });
  expect(results.outcome("amq-exchanges", "redeclareMatch")).toEqual({ ok: true, value: { exchange: "amq.match" } });
  expect(channelClosedWith(results.outcome("amq-exchanges", "redeclareOtherType"))).toMatchObject({
    code: 406,
    text: "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'amq.direct' in vhost '/': received 'fanout' but current is 'direct'",
  });
});

test("declaring a new amq.* exchange is 403; deleting any amq.* exchange, even a missing one, is 403", () => {
  expect(channelClosedWith(results.outcome("amq-exchanges", "declareNew"))).toEqual({
    code: 403,
    text: "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'",
    classId: 40,
    methodId: 10,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("amq-exchanges", "deleteSystem"))).toEqual({
    code: 403,
    text: "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
    classId: 40,
    methodId: 20,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("amq-exchanges", "deleteMissingReserved"))).toMatchObject({
    code: 403,
    text: "ACCESS_REFUSED - deletion of system exchange 'amq.nope' in vhost '/' not allowed",
  });
});

test("redeclaring an exchange with another type, durability, auto-delete or internal flag is 406", () => {
  const x = str("declare-errors", "name");
  const cases: Record<string, [string, string, string]> = {
    typeMismatch: ["type", "topic", "direct"],
    durableMismatch: ["durable", "true", "false"],
    autoDeleteMismatch: ["auto_delete", "true", "false"],
    internalMismatch: ["internal", "true", "false"],
  };
  for (const [field, [arg, received, current]] of Object.entries(cases)) {
    expect({ field, ...channelClosedWith(results.outcome("declare-errors", field)) }).toEqual({
      field,
      code: 406,
      text: `PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange '${x}' in vhost '/': received '${received}' but current is '${current}'`,
      classId: 40,
      methodId: 10,
      closed: true,
    });
  }
  expect(results.outcome("declare-errors", "equivalent")).toEqual({ ok: true, value: { exchange: x } });
});

test("a passive declare of a missing exchange is 404; deleting a missing exchange succeeds", () => {
  const missing = str("declare-errors", "missing");
  expect(channelClosedWith(results.outcome("declare-errors", "passiveMissing"))).toEqual({
    code: 404,
    text: `NOT_FOUND - no exchange '${missing}' in vhost '/'`,
    classId: 40,
    methodId: 10,
    closed: true,
  });
  expect(results.outcome("declare-errors", "passiveExisting")).toEqual({ ok: true, value: {} });
  expect(results.outcome("declare-errors", "deleteMissing")).toEqual({ ok: true, value: {} });
});

test("binding to or from a missing exchange, or a missing queue, is 404", () => {
  const missing = str("declare-errors", "missing");
  const cases: Record<string, [string, number, number]> = {
    bindQueueMissingExchange: [`NOT_FOUND - no exchange '${missing}' in vhost '/'`, 50, 20],
    bindMissingQueue: [`NOT_FOUND - no queue '${missing}' in vhost '/'`, 50, 20],
    bindExchangeMissingSource: [`NOT_FOUND - no exchange '${missing}' in vhost '/'`, 40, 30],
    bindExchangeMissingDestination: [`NOT_FOUND - no exchange '${missing}' in vhost '/'`, 40, 30],
  };
  for (const [field, [text, classId, methodId]] of Object.entries(cases)) {
    expect({ field, ...channelClosedWith(results.outcome("declare-errors", field)) }).toEqual({ field, code: 404, text, classId, methodId, closed: true });
  }
});

test("exchange.delete if-unused is 406 while the exchange is a binding source, not when only a destination", () => {
  const source = str("delete-if-unused", "source");
  expect(channelClosedWith(results.outcome("delete-if-unused", "inUse"))).toEqual({
    code: 406,
    text: `PRECONDITION_FAILED - exchange '${source}' in vhost '/' in use`,
    classId: 40,
    methodId: 20,
    closed: true,
  });
  expect(results.outcome("delete-if-unused", "stillThere").ok).toBe(true);
  expect(results.outcome("delete-if-unused", "destination").ok).toBe(true);
  expect(channelClosedWith(results.outcome("delete-if-unused", "destinationGone")).code).toBe(404);
  expect(results.outcome("delete-if-unused", "unused").ok).toBe(true);
  expect(channelClosedWith(results.outcome("delete-if-unused", "gone")).code).toBe(404);
});

test("publishing to an internal exchange is 403; it still routes what reaches it through a binding", () => {
  const internal = str("internal-exchange", "internal");
  expect(channelClosedWith(results.outcome("internal-exchange", "direct"))).toEqual({
    code: 403,
    text: `ACCESS_REFUSED - cannot publish to internal exchange '${internal}' in vhost '/'`,
    classId: 60,
    methodId: 40,
    closed: true,
  });
  expect(results.outcome("internal-exchange", "viaFront")).toEqual({ ok: true, value: ["via-front"] });
});

test("an auto-delete exchange goes when its last binding goes (unbind or queue delete), not before", () => {
  const x = str("auto-delete-exchange", "x");
  expect(results.outcome("auto-delete-exchange", "neverBoundStays").ok).toBe(true);
  expect(results.outcome("auto-delete-exchange", "afterFirstUnbind").ok).toBe(true);
  expect(channelClosedWith(results.outcome("auto-delete-exchange", "afterLastUnbind"))).toMatchObject({
    code: 404,
    text: `NOT_FOUND - no exchange '${x}' in vhost '/'`,
  });
  expect(channelClosedWith(results.outcome("auto-delete-exchange", "afterQueueDelete")).code).toBe(404);
});

test("an alternate exchange receives unroutable messages, and then nothing is returned", () => {
  const r = results.get("alternate-exchange");
  expect(results.outcome("alternate-exchange", "published")).toEqual({ ok: true, value: { routed: ["known"], alternate: ["unknown"] } });
  // Mandatory messages taken by the alternate exchange count as routed.
  expect(r["returns"]).toEqual([]);
});

test("redeclaring with another alternate exchange, without it, or adding one is 406", () => {
  const main = str("alternate-exchange", "main");
  const ae = str("alternate-exchange", "ae");
  const inequivalent = (x: string, received: string, current: string) => ({
    code: 406,
    text: `PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '${x}' in vhost '/': received ${received} but current is ${current}`,
    classId: 40,
    methodId: 10,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("alternate-exchange", "otherAe"))).toEqual(inequivalent(main, "'amq.fanout'", `'${ae}'`));
  expect(channelClosedWith(results.outcome("alternate-exchange", "withoutAe"))).toEqual(inequivalent(main, "none", `the value '${ae}' of type 'longstr'`));
  expect(channelClosedWith(results.outcome("alternate-exchange", "addedAe"))).toEqual(inequivalent(ae, "the value 'amq.fanout' of type 'longstr'", "none"));
  expect(results.outcome("alternate-exchange", "sameAe")).toEqual({ ok: true, value: { exchange: main } });
});

test("a headers binding with an invalid x-match is 406 on queue.bind and exchange.bind; -with-x modes are accepted", () => {
  const invalid = (mode: string, classId: number, methodId: number) => ({
    code: 406,
    text: `PRECONDITION_FAILED - Invalid x-match field value <<"${mode}">>; expected all, any, all-with-x, or any-with-x`,
    classId,
    methodId,
    closed: true,
  });
  expect(channelClosedWith(results.outcome("headers-x-match-invalid", "badValue"))).toEqual(invalid("some", 50, 20));
  expect(channelClosedWith(results.outcome("headers-x-match-invalid", "badValueExchangeBind"))).toEqual(invalid("most", 40, 30));
  expect(results.outcome("headers-x-match-invalid", "unbind")).toEqual({ ok: true, value: {} });
  expect(results.outcome("headers-x-match-invalid", "withX")).toEqual({ ok: true, value: {} });
});

test("a bind with both ends missing reports the source exchange first", () => {
  expect(channelClosedWith(results.outcome("binding-missing-ends", "bindBothMissing"))).toEqual({
    code: 404,
    text: `NOT_FOUND - no exchange '${str("binding-missing-ends", "nx")}' in vhost '/'`,
    classId: 50,
    methodId: 20,
    closed: true,
  });
  // amqplib's bindExchange(destination, source): nx2 is the source.
  expect(channelClosedWith(results.outcome("binding-missing-ends", "bindExchangeBothMissing"))).toEqual({
    code: 404,
    text: `NOT_FOUND - no exchange '${str("binding-missing-ends", "nx2")}' in vhost '/'`,
    classId: 40,
    methodId: 30,
    closed: true,
  });
});

test("unbinding is idempotent: a missing queue, exchange or binding is unbind-ok; the default exchange is still 403", () => {
  for (const field of ["unbindMissingQueue", "unbindMissingExchange", "unbindMissingBinding", "unbindExchangeMissingSource", "unbindExchangeMissingDestination"]) {
    expect({ field, ...results.outcome("binding-missing-ends", field) }).toEqual({ field, ok: true, value: {} });
  }
  expect(channelClosedWith(results.outcome("binding-missing-ends", "unbindDefault"))).toMatchObject({ code: 403, text: DEFAULT_REFUSED, classId: 50, methodId: 50 });
});

test("on another connection's exclusive queue, bind and a real unbind are 405; a missing exchange or binding wins", () => {
  const q = str("binding-locked-queue", "q");
  const locked = `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`;
  expect(channelClosedWith(results.outcome("binding-locked-queue", "bind"))).toEqual({ code: 405, text: locked, classId: 50, methodId: 20, closed: true });
  expect(channelClosedWith(results.outcome("binding-locked-queue", "unbindExisting"))).toEqual({ code: 405, text: locked, classId: 50, methodId: 50, closed: true });
  expect(channelClosedWith(results.outcome("binding-locked-queue", "bindMissingExchange"))).toMatchObject({
    code: 404,
    text: "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'",
  });
  expect(results.outcome("binding-locked-queue", "unbindNonexistent")).toEqual({ ok: true, value: {} });
});

test("exchange-to-exchange bindings route by the binding key, stop on unbind, and a cycle delivers once", () => {
  expect(results.get("exchange-to-exchange")).toEqual({
    ok: true,
    value: { viaTopic: ["logs.error"], cycle: ["into-x1", "into-x2"], afterUnbind: [] },
  });
});

test("declaring an unknown exchange type closes the connection with 503 COMMAND_INVALID", () => {
  const r = results.get("unknown-exchange-type") as { declare: { ok: boolean; connectionClosed: boolean; close: unknown; connectionError: { code: number } } };
  expect(r.declare.ok).toBe(false);
  expect(r.declare.connectionClosed).toBe(true);
  expect(r.declare.connectionError.code).toBe(503);
  expect(r.declare.close).toEqual({ replyCode: 503, replyText: "COMMAND_INVALID - unknown exchange type 'no-such-type'", classId: 40, methodId: 10 });
  // Other connections are unaffected.
  expect(results.outcome("unknown-exchange-type", "passive").ok).toBe(true);
});
