// The management API declares through the same checks as AMQP: RabbitMQ's texts in a 400, and
// the same equivalence rules (the alternate exchange compared both ways).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startAdminBroker, type AdminBroker } from "./admin_helpers.ts";

let w: AdminBroker;
beforeAll(async () => {
  w = await startAdminBroker();
});
afterAll(async () => {
  await w.broker.dispose();
});

test("an invalid queue argument over HTTP is a 400 with the AMQP method's text", async () => {
  const r = await w.api("PUT", "/api/queues/%2F/http-prio", { body: { arguments: { "x-max-priority": 300 } } });
  expect(r.status).toBe(400);
  expect(r.json).toEqual({ error: "bad_request", reason: "invalid arg 'x-max-priority' for queue 'http-prio' in vhost '/': {max_value_exceeded,300}" });
  const quorum = await w.api("PUT", "/api/queues/%2F/http-qq", { body: { durable: false, arguments: { "x-queue-type": "quorum" } } });
  expect(quorum.status).toBe(400);
  expect(quorum.json).toEqual({ error: "bad_request", reason: "invalid property 'non-durable' for queue 'http-qq' in vhost '/'" });
  expect((await w.api("GET", "/api/queues/%2F/http-prio")).status).toBe(404);
});

test("an exchange redeclared over HTTP without its alternate exchange is inequivalent, as over AMQP", async () => {
  expect((await w.api("PUT", "/api/exchanges/%2F/http-ae", { body: { type: "direct", arguments: { "alternate-exchange": "ae" } } })).status).toBe(201);
  const r = await w.api("PUT", "/api/exchanges/%2F/http-ae", { body: { type: "direct" } });
  expect(r.status).toBe(400);
  expect((r.json as { reason: string }).reason).toBe("inequivalent arg 'alternate-exchange' for exchange 'http-ae' in vhost '/': received none but current is the value 'ae' of type 'longstr'");
  expect((await w.api("PUT", "/api/exchanges/%2F/http-ae", { body: { type: "direct", arguments: { "alternate-exchange": "ae" } } })).status).toBe(204);
});

test("definitions import refuses a queue with an invalid argument before applying anything", async () => {
  const defs = {
    exchanges: [{ name: "imp-x", vhost: "/", type: "fanout", durable: true, auto_delete: false, internal: false, arguments: {} }],
    queues: [{ name: "imp-q", vhost: "/", durable: true, auto_delete: false, arguments: { "x-overflow": "sideways" } }],
  };
  const r = await w.api("POST", "/api/definitions", { body: defs });
  expect(r.status).toBe(400);
  expect((r.json as { reason: string }).reason).toBe("invalid arg 'x-overflow' for queue 'imp-q' in vhost '/': invalid_overflow");
  expect((await w.api("GET", "/api/exchanges/%2F/imp-x")).status).toBe(404);
});
