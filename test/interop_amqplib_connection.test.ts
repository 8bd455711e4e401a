// amqplib (under Node) against `bun run server`: what connection.start advertises, refused
// logins and vhosts with RabbitMQ's codes and texts, and heartbeat negotiation.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { runScenario, type ScenarioResults } from "./clients/amqplib_results.ts";

let broker: BrokerProcess;
let results: ScenarioResults;

beforeAll(async () => {
  broker = await startBroker();
  results = await runScenario("amqplib_connection.mjs", broker.url);
}, 30_000);

afterAll(async () => {
  await broker.dispose();
});

test("the scenario script ran to the end", () => {
  expect(results.completed).toBe(true);
});

test("server-properties name the product Warren and list RabbitMQ's capabilities", () => {
  const r = results.get("server-properties");
  expect(r["product"]).toBe("Warren");
  expect(typeof r["version"]).toBe("string");
  expect(r["capabilities"]).toMatchObject({
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    "basic.nack": true,
    consumer_cancel_notify: true,
    per_consumer_qos: true,
    authentication_failure_close: true,
    consumer_priorities: true,
  });
});

test("a wrong password is refused with 403 ACCESS_REFUSED during the handshake", () => {
  const r = results.get("wrong-password");
  expect(r["connected"]).toBe(false);
  // amqplib asks for authentication_failure_close, so the refusal is a connection.close.
  expect(r["close"]).toEqual({
    replyCode: 403,
    replyText: "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.",
    classId: 0,
    methodId: 0,
  });
  expect((r["error"] as { message: string }).message).toContain("403 (ACCESS-REFUSED)");
});

test("an unknown vhost is refused with 530 NOT_ALLOWED on connection.open", () => {
  const r = results.get("unknown-vhost");
  expect(r["connected"]).toBe(false);
  expect(r["close"]).toEqual({ replyCode: 530, replyText: "NOT_ALLOWED - vhost no-such-vhost not found", classId: 10, methodId: 40 });
});

test("the server offers a 60 s heartbeat", () => {
  // amqplib takes the smaller non-zero value; it asked for 3600.
  expect(results.get("heartbeat-offer")["negotiated"]).toBe(60);
});

test("a 1 s heartbeat is honoured: the server sends heartbeats and keeps an idle connection", () => {
  const r = results.get("heartbeat-1s");
  expect(r["negotiated"]).toBe(1);
  expect(r["closedWhileIdle"]).toBe(false);
  expect(r["error"]).toBeNull();
  // 3.5 idle seconds at a 1 s interval: at least one heartbeat per two intervals.
  expect(r["heartbeatsSeen"] as number).toBeGreaterThanOrEqual(2);
  expect(r["usable"]).toBe(true);
});

test("connection.close sent while publishes are still queued in the client completes: its callback runs without error", () => {
  const r = results.get("close-after-burst");
  expect(r).toEqual({ closeError: null, errors: [], bufferFilled: expect.any(Boolean) });
});
