// Flow control as users meet it: publishers that never hold back neither starve other work nor
// grow memory without bound; the memory and disk alarms block publishers (connection.blocked)
// until they clear, and nothing is lost. Functional checks only: no timings are asserted.
import { afterEach, describe, expect, test } from "bun:test";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import { connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { runScenario } from "./clients/amqplib_results.ts";
import { Inbox, uniq } from "./support/amqp_client_helpers.ts";
import { runNode } from "./support/node_script.ts";

let admin: AdminBroker | undefined;

afterEach(async () => {
  await admin?.broker.dispose();
  admin = undefined;
});

/** Starts the raw-socket flood publisher (test/clients/flood_publisher.mjs) for `seconds`. */
/** With `consume`, the script also consumes the flooded queue (prefetch 1000, acks every 500). */
function flood(port: number, queue: string, seconds: number, consume = false): Promise<{ published: number; consumed: number }> {
  const args = [String(port), queue, String(seconds), ...(consume ? ["consume"] : [])];
  return runNode("test/clients/flood_publisher.mjs", args, (seconds + 20) * 1000).then((r) => {
    if (r.code !== 0) throw new Error(`flood publisher failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { published: number; consumed: number };
  });
}

async function nodeStatus(a: AdminBroker): Promise<Record<string, unknown>> {
  const nodes = (await a.api("GET", "/api/nodes")).json as Record<string, unknown>[];
  return nodes[0]!;
}

describe("memory alarm", () => {
  test("amqplib: a publisher is blocked below the watermark and unblocked when it is raised, losing nothing", async () => {
    admin = await startAdminBroker({ args: ["--vm-memory-high-watermark", "1MiB"] });
    const results = await runScenario("amqplib_flow.mjs", admin.broker.url, 40_000, [`http://127.0.0.1:${admin.mgmtPort}`]);
    const r = results.get("blocked-then-unblocked");
    expect(r["events"]).toEqual(["blocked:low on memory", "unblocked"]);
    expect(r["raised"]).toBe(204);
    expect(r["received"]).toBe(1000);
    expect(r["inOrder"]).toBe(true);
  }, 60_000);

  test("the alarm and its figures appear in /api/nodes, /api/overview, /metrics and ctl status", async () => {
    admin = await startAdminBroker({ args: ["--vm-memory-high-watermark", "1MiB"] });
    const node = await nodeStatus(admin);
    expect(node["mem_alarm"]).toBe(true);
    expect(node["mem_limit"]).toBe(1024 * 1024);
    expect(node["disk_free_alarm"]).toBe(false);
    expect(node["disk_free_limit"]).toBe(50_000_000);
    expect(Number(node["disk_free"])).toBeGreaterThan(0);
    expect(Number(node["mem_used"])).toBeGreaterThan(1024 * 1024);
    const overview = (await admin.api("GET", "/api/overview")).json as Record<string, unknown>;
    expect(overview["mem_alarm"]).toBe(true);
    const metrics = (await admin.api("GET", "/metrics")).text;
    expect(metrics).toContain("rabbitmq_alarms_memory_used_watermark 1");
    expect(metrics).toContain("rabbitmq_alarms_free_disk_space_watermark 0");
    expect(metrics).toContain(`rabbitmq_resident_memory_limit_bytes ${1024 * 1024}`);
    const status = await admin.ctl("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("Memory alarm on node");
    expect(admin.broker.log()).toContain("memory resource limit alarm set");

    const set = await admin.ctl("set_vm_memory_high_watermark", "absolute", "20GiB");
    expect(set.code).toBe(0);
    const after = await nodeStatus(admin);
    expect(after["mem_alarm"]).toBe(false);
    expect(after["mem_limit"]).toBe(20 * 1024 ** 3);
    expect(admin.broker.log()).toContain("memory resource limit alarm cleared");
    expect((await admin.ctl("set_vm_memory_high_watermark", "0.3")).code).toBe(0);
    expect(Number((await nodeStatus(admin))["mem_limit"])).toBeGreaterThan(0);
    expect((await admin.ctl("set_vm_memory_high_watermark", "1.5")).code).not.toBe(0);
  }, 30_000);

  test("an unthrottled publisher into a queue with a slow consumer keeps memory below the mark", async () => {
    const mark_bytes = 512 * 1024 * 1024;
    admin = await startAdminBroker({ args: ["--vm-memory-high-watermark", String(mark_bytes)] });
    const queue = uniq("slow");
    const conn = await connect(admin.broker.url);
    const ch = await conn.channel();
    await ch.queueDeclare(queue, { durable: false });
    await ch.prefetch(10);
    let consumed = 0;
    await ch.basicConsume(queue, { noAck: false }, (msg: AMQPMessage) => {
      consumed++;
      setTimeout(() => msg.ack().catch(() => {}), 5);
    });
    let peak_bytes = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak_bytes = Math.max(peak_bytes, Number((await nodeStatus(admin!))["mem_used"]));
        await Bun.sleep(100);
      }
    })();
    await flood(admin.broker.port, queue, 4);
    sampling = false;
    await sampler;
    expect(consumed).toBeGreaterThan(0);
    expect(peak_bytes).toBeLessThan(mark_bytes * 1.1);
    const depth = (await ch.queueDeclare(queue, { passive: true })).messageCount;
    // Queue flow holds the backlog of a queue with consumers near its mark (16,384 messages).
    expect(depth).toBeLessThan(200_000);
  }, 60_000);
});

describe("disk alarm", () => {
  test("amqp-client: publishers are blocked while free space is below the limit, and resume when it is lowered", async () => {
    admin = await startAdminBroker({ args: ["--disk-free-limit", "1000TB"] });
    expect((await nodeStatus(admin))["disk_free_alarm"]).toBe(true);
    const queue = uniq("disk");
    const conn = await connect(admin.broker.url);
    const ch = await conn.channel();
    await ch.queueDeclare(queue, { durable: false });
    const confirmed = ch.confirmSelect().then(() => ch.basicPublish("", queue, "first"));
    for (let i = 0; i < 50 && conn.blocked === undefined; i++) await Bun.sleep(50);
    expect(conn.blocked).toBe("low on disk");
    expect(admin.broker.log()).toContain("disk resource limit alarm set");
    const set = await admin.ctl("set_disk_free_limit", "1MB");
    expect(set.code).toBe(0);
    await confirmed;
    for (let i = 0; i < 50 && conn.blocked !== undefined; i++) await Bun.sleep(50);
    expect(conn.blocked).toBeUndefined();
    await ch.basicPublish("", queue, "second");
    const got: string[] = [];
    for (let msg = await ch.basicGet(queue, { noAck: true }); msg !== null; msg = await ch.basicGet(queue, { noAck: true })) got.push(msg.bodyToString() ?? "");
    expect(got).toEqual(["first", "second"]);
  }, 30_000);
});

describe("fair scheduling", () => {
  test("a consumer on one queue gets all its messages while another connection floods a queue on the same shard", async () => {
    admin = await startAdminBroker({ args: ["--workers", "1"] });
    const quiet = uniq("quiet");
    const conn = await connect(admin.broker.url);
    const ch = await conn.channel();
    await ch.queueDeclare(quiet, { durable: false });
    // Prefetch 1 with an ack per message: every delivery waits for the previous ack to reach the
    // shard, so acks stuck behind the flood's publishes would stall this consumer.
    await ch.prefetch(1);
    const inbox = new Inbox();
    await ch.basicConsume(quiet, { noAck: false }, (msg: AMQPMessage) => {
      inbox.push(msg);
      msg.ack().catch(() => {});
    });
    const flooding = flood(admin.broker.port, uniq("flood"), 6, true);
    await Bun.sleep(500);
    const pub = await (await connect(admin.broker.url)).channel();
    await pub.confirmSelect();
    const count = 1000;
    for (let i = 0; i < count; i++) void pub.basicPublish("", quiet, `q${i}`);
    await inbox.waitFor(count, 20_000);
    expect(inbox.bodies().slice(0, count)).toEqual(Array.from({ length: count }, (_, i) => `q${i}`));
    const { published, consumed } = await flooding;
    expect(published).toBeGreaterThan(0);
    expect(consumed).toBeGreaterThan(0);
  }, 60_000);

  test("an unthrottled publisher does not outrun a consumer that keeps up: the queue stays near its flow mark", async () => {
    admin = await startAdminBroker();
    const queue = uniq("flood");
    const { consumed } = await flood(admin.broker.port, queue, 4, true);
    expect(consumed).toBeGreaterThan(0);
    const queues = (await admin.api("GET", `/api/queues/%2F/${queue}`)).json as Record<string, unknown> | null;
    // The publisher's connection closed at the end: what is left is what the consumer had not
    // taken yet, bounded by the flow mark (16,384 ready) plus what was in flight.
    expect(Number(queues?.["messages"] ?? 0)).toBeLessThan(200_000);
  }, 60_000);
});
