// Permissions as AMQP clients meet them, with RabbitMQ's codes and texts: a user whose configure,
// write and read patterns are all "^app\." in vhost "app-vhost" may do each operation on
// matching names and gets 403 ACCESS_REFUSED on others; connection.open to a vhost without
// permissions is 530; deleting a vhost or a user closes its connections with 320.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import { closedBy, connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { errorOf, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";

const VHOST = "app-vhost";
const USER = "app-user";
const PASSWORD = "app-pass";

let w: AdminBroker;
let app: AMQPConnection;
const open: AMQPConnection[] = [];

beforeAll(async () => {
  w = await startAdminBroker();
  const ctl = async (...args: string[]) => expect((await w.ctl(...args)).code).toBe(0);
  await ctl("add_vhost", VHOST);
  await ctl("add_user", USER, PASSWORD);
  await ctl("set_permissions", "-p", VHOST, USER, "^app\\.", "^app\\.", "^app\\.");
  await ctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*");
  // Fixtures, made by guest: exchanges and queues on both sides of the pattern.
  const admin = await amqpAs("guest", "guest");
  const ch = await admin.channel();
  for (const x of ["app.x", "other.x"]) await ch.exchangeDeclare(x, "direct");
  for (const q of ["app.q", "other.q", "app.del", "other.del"]) await ch.queueDeclare(q);
  app = await amqpAs(USER, PASSWORD);
});

afterAll(async () => {
  for (const c of open) if (!c.closed) await c.close().catch(() => {});
  await w.broker.dispose();
});

async function amqpAs(user: string, password: string, vhost = VHOST): Promise<AMQPConnection> {
  const c = await connect(w.amqpUrl(user, password, vhost));
  open.push(c);
  return c;
}

/** Each refusal closes the channel, so each check gets its own. */
async function fresh(): Promise<AMQPChannel> {
  return await app.channel();
}

function refused(kind: "queue" | "exchange", name: string): string {
  return `ACCESS_REFUSED - access to ${kind} '${name}' in vhost '${VHOST}' refused for user '${USER}'`;
}

describe("the ^app\\. permission matrix", () => {
  test("queue.declare needs configure on the queue", async () => {
    await (await fresh()).queueDeclare("app.new");
    expect(await errorOf((await fresh()).queueDeclare("other.new"))).toContain(refused("queue", "other.new"));
  });

  test("queue.delete needs configure on the queue", async () => {
    await (await fresh()).queueDelete("app.del");
    expect(await errorOf((await fresh()).queueDelete("other.del"))).toContain(refused("queue", "other.del"));
  });

  test("exchange.declare and exchange.delete need configure on the exchange", async () => {
    const ch = await fresh();
    await ch.exchangeDeclare("app.x2", "fanout");
    await ch.exchangeDelete("app.x2");
    expect(await errorOf((await fresh()).exchangeDeclare("other.x2", "fanout"))).toContain(refused("exchange", "other.x2"));
    expect(await errorOf((await fresh()).exchangeDelete("other.x"))).toContain(refused("exchange", "other.x"));
  });

  test("queue.bind needs write on the queue and read on the exchange", async () => {
    await (await fresh()).queueBind("app.q", "app.x", "k");
    expect(await errorOf((await fresh()).queueBind("app.q", "other.x", "k"))).toContain(refused("exchange", "other.x"));
    expect(await errorOf((await fresh()).queueBind("other.q", "app.x", "k"))).toContain(refused("queue", "other.q"));
  });

  test("basic.publish needs write on the exchange", async () => {
    const ok = await fresh();
    await ok.confirmSelect();
    await ok.basicPublish("app.x", "k", "allowed");
    const denied = await fresh();
    const closed = new Promise<string>((resolve) => (denied.onerror = resolve));
    await denied.basicPublish("other.x", "k", "denied");
    expect(await closed).toContain(refused("exchange", "other.x"));
  });

  test("basic.consume, basic.get and queue.purge need read on the queue", async () => {
    const ch = await fresh();
    expect((await ch.basicGet("app.q"))?.bodyToString()).toBe("allowed");
    const consumer = await ch.basicConsume("app.q", { noAck: true }, () => {});
    await consumer.cancel();
    await ch.queuePurge("app.q");
    expect(await errorOf((await fresh()).basicConsume("other.q", {}, () => {}))).toContain(refused("queue", "other.q"));
    expect(await errorOf((await fresh()).basicGet("other.q"))).toContain(refused("queue", "other.q"));
    expect(await errorOf((await fresh()).queuePurge("other.q"))).toContain(refused("queue", "other.q"));
  });
});

describe("logging in", () => {
  test("connection.open to a vhost without permissions: 530 NOT_ALLOWED", async () => {
    const message = await errorOf(amqpAs(USER, PASSWORD, "/"));
    expect(message).toContain(`NOT_ALLOWED - access to vhost '/' refused for user '${USER}'`);
    expect(message).toContain("530");
  });

  test("a wrong password is refused", async () => {
    expect(await errorOf(amqpAs(USER, "wrong"))).toContain("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN");
  });

  test("guest logs in from loopback", async () => {
    const c = await amqpAs("guest", "guest", "/");
    expect(c.closed).toBe(false);
  });

  test("a changed password takes effect; the old one is refused", async () => {
    const user = uniq("pwuser");
    expect((await w.ctl("add_user", user, "one")).code).toBe(0);
    expect((await w.ctl("set_permissions", "-p", VHOST, user, ".*", ".*", ".*")).code).toBe(0);
    await amqpAs(user, "one");
    expect((await w.ctl("change_password", user, "two")).code).toBe(0);
    await amqpAs(user, "two");
    expect(await errorOf(amqpAs(user, "one"))).toContain("ACCESS_REFUSED");
  });
});

describe("isolation and deletion", () => {
  test("a queue in one vhost is invisible from another", async () => {
    const q = uniq("app.iso");
    await (await app.channel()).queueDeclare(q);
    const root = await (await amqpAs("guest", "guest", "/")).channel();
    expect(await errorOf(root.queueDeclare(q, { passive: true }))).toContain(`NOT_FOUND - no queue '${q}' in vhost '/'`);
  });

  test("delete_vhost closes the vhost's connections and drops its queues and permissions", async () => {
    const vhost = uniq("doomed");
    expect((await w.ctl("add_vhost", vhost)).code).toBe(0);
    expect((await w.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")).code).toBe(0);
    const c = await amqpAs("guest", "guest", vhost);
    const ch = await c.channel();
    await ch.queueDeclare("kept-messages", { durable: true });
    await ch.confirmSelect();
    await ch.basicPublish("", "kept-messages", "m", { deliveryMode: 2 });
    const other = await amqpAs("guest", "guest", "/");
    const closed = closedBy(c);
    const result = await w.ctl("delete_vhost", vhost);
    expect(result).toEqual({ code: 0, stdout: `Deleting vhost "${vhost}" ...\n`, stderr: "" });
    expect(await closed).toContain(`CONNECTION_FORCED - vhost '${vhost}' is deleted`);
    expect(other.closed).toBe(false);
    expect((await w.api("GET", `/api/queues/${vhost}`)).status).toBe(404);
    expect(((await w.api("GET", "/api/permissions")).json as { vhost: string }[]).filter((p) => p.vhost === vhost)).toEqual([]);
    // Re-created, it starts empty.
    expect((await w.ctl("add_vhost", vhost)).code).toBe(0);
    expect((await w.api("GET", `/api/queues/${vhost}`)).json).toEqual([]);
  });

  test("delete_user closes the user's connections", async () => {
    const user = uniq("leaving");
    expect((await w.ctl("add_user", user, "pw")).code).toBe(0);
    expect((await w.ctl("set_permissions", "-p", VHOST, user, ".*", ".*", ".*")).code).toBe(0);
    const c = await amqpAs(user, "pw");
    const closed = closedBy(c);
    expect((await w.ctl("delete_user", user)).code).toBe(0);
    expect(await closed).toContain(`CONNECTION_FORCED - user '${user}' is deleted`);
    expect(await errorOf(amqpAs(user, "pw"))).toContain("ACCESS_REFUSED");
  });
});
