// amqplib (under Node) against `bun run server`: basic.publish errors, mandatory returns, all
// basic properties round-tripping byte for byte, empty and larger-than-frame bodies, FIFO order.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { channelClosedWith, runScenario, type ScenarioResults } from "./clients/amqplib_results.ts";

let broker: BrokerProcess;
let results: ScenarioResults;

beforeAll(async () => {
  broker = await startBroker();
  results = await runScenario("amqplib_publish.mjs", broker.url);
}, 30_000);

afterAll(async () => {
  await broker.dispose();
});

interface Returned {
  fields: { replyCode: number; replyText: string; exchange: string; routingKey: string };
  properties: Record<string, unknown>;
  body: string;
}

test("the scenario script ran to the end", () => {
  expect(results.completed).toBe(true);
});

test("publishing to a missing exchange closes the channel with 404", () => {
  const name = results.get("missing-exchange")["name"] as string;
  expect(channelClosedWith(results.outcome("missing-exchange", "result"))).toEqual({
    code: 404,
    text: `NOT_FOUND - no exchange '${name}' in vhost '/'`,
    classId: 60,
    methodId: 40,
    closed: true,
  });
});

test("a mandatory unroutable message comes back as basic.return 312 NO_ROUTE with its body and properties", () => {
  const outcome = results.outcome("mandatory-unroutable");
  expect(outcome.ok).toBe(true);
  const { missingQueue, returns, routableReturned } = outcome.value as { missingQueue: string; returns: Returned[]; routableReturned: boolean };
  expect(returns).toEqual([
    {
      fields: { replyCode: 312, replyText: "NO_ROUTE", exchange: "amq.direct", routingKey: "no-binding" },
      properties: { contentType: "text/plain", headers: { h: "v" }, messageId: "m-1" },
      body: "returned body",
    },
    {
      fields: { replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: missingQueue },
      properties: { headers: {} },
      body: "to missing queue",
    },
    {
      fields: { replyCode: 312, replyText: "NO_ROUTE", exchange: "amq.direct", routingKey: "no-binding" },
      properties: { headers: {} },
      body: "",
    },
  ]);
  // A routable mandatory message is not returned.
  expect(routableReturned).toBe(false);
});

test("a non-mandatory unroutable message is dropped silently (and confirmed)", () => {
  expect(results.outcome("non-mandatory-unroutable")).toEqual({ ok: true, value: { returns: [], acked: 3, after: {} } });
});

test("a user-id other than the authenticated user is 406; 'guest' passes and is delivered", () => {
  expect(channelClosedWith(results.outcome("user-id", "mismatch"))).toEqual({
    code: 406,
    text: "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'",
    classId: 60,
    methodId: 40,
    closed: true,
  });
  expect(results.outcome("user-id", "matching")).toEqual({ ok: true, value: { userId: "guest", body: "genuine" } });
  // The refused message was not enqueued.
  expect(results.outcome("user-id", "counts")).toEqual({ ok: true, value: { messageCount: 0 } });
});

test("all 14 basic properties and every header field type arrive byte for byte, via get and via consume", () => {
  const outcome = results.outcome("properties-round-trip");
  expect(outcome.ok).toBe(true);
  const v = outcome.value as {
    sentPropertyBytes: string;
    getPropertyBytes: string;
    consumePropertyBytes: string;
    sent: Record<string, unknown>;
    viaGet: { properties: Record<string, unknown>; body: string };
    viaConsume: { properties: Record<string, unknown>; body: string };
  };
  // Byte equality keeps each field table value's type tag (b, B, s, u, I, i, l, f, d, D, T, S, x, A, F, V, t).
  expect(v.sentPropertyBytes.length).toBeGreaterThan(200);
  expect(v.getPropertyBytes).toBe(v.sentPropertyBytes);
  expect(v.consumePropertyBytes).toBe(v.sentPropertyBytes);
  const expectedProperties = {
    contentType: "application/json",
    contentEncoding: "gzip",
    deliveryMode: 2,
    priority: 7,
    correlationId: "corr-42",
    replyTo: "reply-queue",
    expiration: "600000",
    messageId: "msg-42",
    timestamp: 1_700_000_123,
    type: "example.type",
    userId: "guest",
    appId: "warren-interop",
    clusterId: "cluster-7",
  };
  const expectedHeaders = {
    string: "text ✓",
    emptyString: "",
    true: true,
    false: false,
    int8: -5,
    int16: -30000,
    int32: 2_000_000_000,
    int64: 2 ** 40,
    negativeInt64: -(2 ** 40),
    double: 3.25,
    uint8: 200,
    uint16: 40000,
    uint32: 4_000_000_000,
    explicitInt64: 7,
    float: 1.5,
    timestamp: { "!": "timestamp", value: 1_700_000_000 },
    decimal: { "!": "decimal", value: { places: 2, digits: 12345 } },
    void: null,
    bytes: { base64: Buffer.from([0, 1, 2, 254, 255]).toString("base64") },
    array: ["a", 1, true, null, ["nested"], { k: "v" }],
    emptyArray: [],
    table: { inner: "x", deeper: { n: 1, list: [1, 2] } },
    emptyTable: {},
  };
  for (const received of [v.viaGet, v.viaConsume]) {
    expect(received.body).toBe("with every property");
    expect(received.properties).toEqual({ ...expectedProperties, headers: expectedHeaders });
  }
});

test("a message without properties arrives without any", () => {
  expect(results.outcome("no-properties")).toEqual({ ok: true, value: { properties: {}, body: "bare" } });
});

test("an empty body arrives empty, via get and via consume", () => {
  expect(results.outcome("empty-body")).toEqual({
    ok: true,
    value: { viaGet: { length: 0, messageId: "empty-1" }, viaConsume: { length: 0, messageId: "empty-2" } },
  });
});

test("bodies at and beyond frame_max (128 KiB, 1 MiB, 20 MiB) arrive intact", () => {
  const outcome = results.outcome("large-bodies");
  expect(outcome.ok).toBe(true);
  const v = outcome.value as {
    frameMax: number;
    sent: { length: number; sha256: string }[];
    received: { length: number; sha256: string; messageId: string }[];
    viaGet: { length: number; sha256: string };
  };
  expect(v.frameMax).toBe(131072);
  expect(v.sent.map((s) => s.length)).toEqual([131_064, 131_072, 1024 * 1024, 20 * 1024 * 1024]);
  expect(v.received).toEqual(v.sent.map((s) => ({ ...s, messageId: `size-${s.length}` })));
  expect(v.viaGet).toEqual(v.sent[2]!);
});

test("1,000 messages published on one channel are consumed in FIFO order", () => {
  expect(results.outcome("fifo-1000")).toEqual({
    ok: true,
    value: { messageCount: 1000, received: 1000, outOfPlace: 0, first: [0, 1, 2], last: [997, 998, 999] },
  });
});

test("basic.publish with immediate=true closes the connection with 540 NOT_IMPLEMENTED", () => {
  const r = results.get("immediate");
  expect(r["connectionClosed"]).toBe(true);
  expect(r["close"]).toEqual({ replyCode: 540, replyText: "NOT_IMPLEMENTED - immediate=true", classId: 60, methodId: 40 });
});

test("an unparsable or out-of-range expiration and a delivery-mode other than 1 or 2 are 406; valid ones pass", () => {
  const refused = (field: string) => channelClosedWith(results.outcome("property-errors", field));
  const precondition = (text: string) => ({ code: 406, text: `PRECONDITION_FAILED - ${text}`, classId: 60, methodId: 40, closed: true });
  expect(refused("expirationNotANumber")).toEqual(precondition("invalid expiration 'soon': no_integer"));
  expect(refused("expirationEmpty")).toEqual(precondition("invalid expiration '': no_integer"));
  expect(refused("expirationNegative")).toEqual(precondition("invalid expiration '-1': {value_negative,-1}"));
  expect(refused("expirationFraction")).toEqual(precondition(`invalid expiration '1.5': {leftover_string,".5"}`));
  expect(refused("expirationTooLarge")).toEqual(precondition("invalid expiration '315360000001': {value_too_large,315360000001}"));
  // Erlang's ~p breaks a term that would pass column 78 and indents it under the brace.
  const leftover = "x".repeat(30);
  expect(refused("expirationLongLeftover")).toEqual(
    precondition(`invalid expiration '1${leftover}': {leftover_string,\n${" ".repeat(55)}"${leftover}"}`),
  );
  expect(refused("deliveryModeZero")).toEqual(precondition("invalid message: {delivery_mode_unknown,0}"));
  expect(refused("deliveryModeThree")).toEqual(precondition("invalid message: {delivery_mode_unknown,3}"));
  expect(refused("userIdFirst")).toEqual(precondition("user_id property set to 'bob' but authenticated user was 'guest'"));
  expect(results.outcome("property-errors", "accepted").ok).toBe(true);
  expect(results.outcome("property-errors", "acceptedLimit").ok).toBe(true);
  // Only the two accepted messages were enqueued.
  expect(results.outcome("property-errors", "stored")).toEqual({ ok: true, value: { messageCount: 2 } });
});
