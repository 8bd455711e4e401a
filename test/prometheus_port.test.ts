// The Prometheus port, as rabbitmq_prometheus serves it: --prometheus-port, /metrics (the same
// text as the management port's) and /metrics/per-object with per-queue series labelled vhost and
// queue, no authentication; 0 turns it off.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";
import { parseArgs } from "../src/config.ts";
import { freePort } from "./support/broker_process.ts";

let w: AdminBroker;
let promPort: number;
let conn: AMQPConnection;

beforeAll(async () => {
  promPort = await freePort();
  w = await startAdminBroker({ args: ["--prometheus-port", String(promPort), "--prometheus-host", "127.0.0.1"] });
  conn = await connect(w.amqpUrl("guest", "guest"));
});

afterAll(async () => {
  await conn?.close().catch(() => {});
  await w.broker.dispose();
});

const scrape = (path: string) => fetch(`http://127.0.0.1:${promPort}${path}`);

/** The sample lines of one metric family. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

test("per-object metrics: each queue's depth, consumers and publishes, labelled vhost and queue", async () => {
  const q = uniq("prom");
  const ch = await conn.channel();
  await ch.queue(q);
  await ch.confirmSelect();
  for (let i = 0; i < 3; i++) await ch.basicPublish("", q, "hello");
  const got = await ch.basicGet(q, { noAck: false }); // one unacked
  expect(got?.bodyToString()).toBe("hello");
  const response = await scrape("/metrics/per-object");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await response.text();
  const labels = `{vhost="/",queue="${q}"}`;
  expect(text).toContain(`rabbitmq_queue_messages_ready${labels} 2\n`);
  expect(text).toContain(`rabbitmq_queue_messages_unacked${labels} 1\n`);
  expect(text).toContain(`rabbitmq_queue_messages${labels} 3\n`);
  expect(text).toContain(`rabbitmq_queue_messages_published_total${labels} 3\n`);
  expect(text).toContain(`rabbitmq_queue_consumers${labels} 0\n`);
  expect(text).toContain("# TYPE rabbitmq_queue_messages_published_total counter\n");
  expect(samples(text, "rabbitmq_connections")).toEqual(["rabbitmq_connections 1"]);
  await got!.ack();
});

test("/metrics is the management port's text, needs no credentials, and other paths are 404", async () => {
  const [prom, mgmt] = await Promise.all([scrape("/metrics"), fetch(`http://127.0.0.1:${w.mgmtPort}/metrics`)]);
  expect(prom.status).toBe(200);
  const [a, b] = [await prom.text(), await mgmt.text()];
  // The same families in the same order (values such as memory move between two scrapes).
  const families = (t: string) => t.split("\n").filter((l) => l.startsWith("# TYPE"));
  expect(families(a)).toEqual(families(b));
  expect(a).not.toContain("rabbitmq_queue_messages_published_total");
  expect((await scrape("/api/overview")).status).toBe(404);
  expect((await scrape("/")).status).toBe(404);
  const status = await w.ctl("-q", "status");
  expect(status.stdout).toContain(`port: ${promPort}, protocol: http/prometheus, purpose: Prometheus exporter API over HTTP\n`);
});

test("the port is 15692 unless told; --prometheus-port 0 (what test brokers use) opens none", async () => {
  expect(parseArgs([]).prometheusPort).toBe(15692);
  const other = await startAdminBroker();
  try {
    expect(other.broker.log()).not.toContain("Prometheus metrics listening");
    const overview = (await other.api("GET", "/api/overview")).json as { listeners: { protocol: string }[] };
    expect(overview.listeners.map((l) => l.protocol)).not.toContain("http/prometheus");
  } finally {
    await other.broker.dispose();
  }
});
