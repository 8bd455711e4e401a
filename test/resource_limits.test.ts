// Vhost limits (max-connections, max-queues) and user limits (max-connections, max-channels):
// set through `bun run ctl` and the management API, refused through real clients with RabbitMQ
// 3.10's codes and texts, exported and imported with the definitions, and kept across a restart.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import amqplib from "amqplib";
import { connect, ctlTestFile, startAdminBroker } from "./admin_helpers.ts";
import { errorOf, uniq, type AMQPConnection } from "./support/amqp_client_helpers.ts";
import { RawAmqp } from "./support/raw_amqp.ts";

const suite = ctlTestFile("warren-limits-");
const { open, scratch, ok } = suite;

async function opened(url: string): Promise<AMQPConnection> {
  const conn = await connect(url);
  open.push(conn);
  return conn;
}

/** A vhost and a user with every permission on it (and guest's), for one test. */
async function tenant(): Promise<{ vhost: string; user: string }> {
  const vhost = uniq("lv");
  const user = uniq("lu");
  await ok("add_vhost", vhost);
  await ok("add_user", user, "pw");
  await ok("set_permissions", "-p", vhost, user, ".*", ".*", ".*");
  await ok("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  return { vhost, user };
}

/** The connection.close a raw client gets for its connection.open. */
async function openRefusal(user: string, password: string, vhost: string) {
  const raw = await RawAmqp.connect(suite.w.broker.port);
  await raw.startHandshake({ user, password, vhost });
  raw.finishHandshake({ user, password, vhost });
  const close = await raw.expectConnectionClose();
  await raw.close();
  return close;
}

describe("vhost limits", () => {
  test("max-queues refuses the next new queue with 406, over AMQP and the API; redeclares still pass", async () => {
    const { vhost } = await tenant();
    expect(await ok("set_vhost_limits", "-p", vhost, '{"max-queues": 2}')).toBe(`Setting vhost limits to "{"max-queues": 2}" for vhost "${vhost}" ...\n`);
    const conn = await opened(suite.w.amqpUrl("guest", "guest", vhost));
    const ch = await conn.channel();
    await ch.queue("q1");
    await ch.queue("", { exclusive: true }); // server-named queues count too
    await ch.queue("q1"); // an existing queue is not a new one
    expect(await errorOf(ch.queue("q3"))).toContain(`PRECONDITION_FAILED - cannot declare queue 'q3': queue limit in vhost '${vhost}' (2) is reached`);
    const put = await suite.w.api("PUT", `/api/queues/${encodeURIComponent(vhost)}/q4`, { body: {} });
    expect(put.status).toBe(400);
    expect(put.json).toEqual({ error: "bad_request", reason: `cannot declare queue 'q4': queue limit in vhost '${vhost}' (2) is reached` });
    // A negative value is no limit.
    await ok("set_vhost_limits", "-p", vhost, '{"max-queues": -1}');
    const ch2 = await conn.channel();
    await ch2.queue("q3");
  });

  test("max-queues 0 allows no queue at all", async () => {
    const { vhost } = await tenant();
    await ok("set_vhost_limits", "-p", vhost, '{"max-queues": 0}');
    const ch = await (await opened(suite.w.amqpUrl("guest", "guest", vhost))).channel();
    expect(await errorOf(ch.queue("first"))).toContain(`cannot declare queue 'first': queue limit in vhost '${vhost}' (0) is reached`);
  });

  test("max-connections refuses connection.open past the limit with 530, naming the user", async () => {
    const { vhost, user } = await tenant();
    await ok("set_vhost_limits", "-p", vhost, '{"max-connections": 1}');
    const first = await opened(suite.w.amqpUrl(user, "pw", vhost));
    expect(await openRefusal("guest", "guest", vhost)).toEqual({
      replyCode: 530,
      replyText: `NOT_ALLOWED - access to vhost '${vhost}' refused for user 'guest': connection limit (1) is reached`,
      classId: 10,
      methodId: 40,
    });
    // Through amqplib as an application sees it; other vhosts are not affected.
    expect(await errorOf(amqplib.connect(suite.w.amqpUrl("guest", "guest", vhost)))).toContain("ConnectionClose");
    await (await opened(suite.w.amqpUrl("guest", "guest", "/"))).close();
    await first.close();
    await (await opened(suite.w.amqpUrl("guest", "guest", vhost))).close();
    await ok("set_vhost_limits", "-p", vhost, '{"max-connections": 0}');
    expect((await openRefusal(user, "pw", vhost)).replyText).toBe(`NOT_ALLOWED - access to vhost '${vhost}' refused for user '${user}': connection limit (0) is reached`);
  });

  test("ctl set / list / clear and their errors, as rabbitmqctl 3.10", async () => {
    const { vhost } = await tenant();
    expect(await ok("list_vhost_limits", "-p", vhost)).toBe(`Listing limits for vhost "${vhost}" ...\n\n`);
    await ok("set_vhost_limits", "-p", vhost, '{"max-queues": 5, "max-connections": 10}');
    expect(await ok("list_vhost_limits", "-p", vhost)).toBe(`Listing limits for vhost "${vhost}" ...\n{"max-connections":10,"max-queues":5}\n`);
    // set_vhost_limits replaces the whole set.
    await ok("set_vhost_limits", "-p", vhost, '{"max-queues": 7}');
    expect(await ok("-q", "list_vhost_limits", "-p", vhost)).toBe('{"max-queues":7}\n');
    expect(await ok("-q", "list_vhost_limits", "--global")).toContain(`vhost\tlimits\n`);
    expect(await ok("-q", "list_vhost_limits", "--global")).toContain(`${vhost}\t{"max-queues":7}\n`);
    expect(await suite.w.ctl("set_vhost_limits", "-p", vhost, '{"max-foo": 10}')).toEqual({
      code: 69,
      stdout: `Setting vhost limits to "{"max-foo": 10}" for vhost "${vhost}" ...\n`,
      stderr: 'Error:\nValidation failed\n\nUnrecognised terms [{<<"max-foo">>,10}] in limits\n\n',
    });
    expect((await suite.w.ctl("set_vhost_limits", "-p", vhost, '{"max-queues": "a"}')).stderr).toBe('Error:\nValidation failed\n\nmax-queues should be a number, actually was <<"a">>\n\n');
    expect((await suite.w.ctl("set_vhost_limits", "-p", vhost, '{"max-queues": 1.5}')).stderr).toBe("Error:\nValidation failed\n\nmax-queues should be a number, actually was 1.5\n\n");
    expect(await suite.w.ctl("-q", "set_vhost_limits", "-p", vhost, "notjson")).toEqual({ code: 69, stdout: "", stderr: "Error:\nJSON decoding error. Reason: badarg\n" });
    expect(await suite.w.ctl("-q", "set_vhost_limits", "-p", "no-such-vhost", '{"max-queues": 1}')).toEqual({ code: 65, stdout: "", stderr: "Virtual host 'no-such-vhost' does not exist\n" });
    expect(await suite.w.ctl("-q", "list_vhost_limits", "-p", "no-such-vhost")).toEqual({ code: 65, stdout: "", stderr: "Virtual host 'no-such-vhost' does not exist\n" });
    expect(await ok("-q", "list_vhost_limits", "-p", vhost)).toBe('{"max-queues":7}\n'); // refusals changed nothing
    expect(await ok("clear_vhost_limits", "-p", vhost)).toBe(`Clearing vhost "${vhost}" limits ...\n`);
    expect(await suite.w.ctl("-q", "clear_vhost_limits", "-p", vhost)).toEqual({ code: 69, stdout: "", stderr: "Error:\nParameter does not exist\n" });
  });

  test("API: list, one vhost, PUT and DELETE of one limit, RabbitMQ's errors", async () => {
    const { vhost } = await tenant();
    const v = encodeURIComponent(vhost);
    expect((await suite.w.api("GET", `/api/vhost-limits/${v}`)).json).toEqual([]);
    expect((await suite.w.api("PUT", `/api/vhost-limits/${v}/max-queues`, { body: { value: 3 } })).status).toBe(204);
    expect((await suite.w.api("PUT", `/api/vhost-limits/${v}/max-connections`, { body: { value: -1 } })).status).toBe(204);
    expect((await suite.w.api("GET", `/api/vhost-limits/${v}`)).json).toEqual([{ vhost, value: { "max-connections": -1, "max-queues": 3 } }]);
    expect((await suite.w.api("GET", "/api/vhost-limits")).json).toContainEqual({ vhost, value: { "max-connections": -1, "max-queues": 3 } });
    const bad = async (body: unknown) => (await suite.w.api("PUT", `/api/vhost-limits/${v}/max-queues`, { body })).json;
    expect(await bad({ value: "x" })).toEqual({ error: "bad_request", reason: 'Validation failed\n\nmax-queues should be a number, actually was <<"x">>\n' });
    expect(await bad({ value: true })).toEqual({ error: "bad_request", reason: "Validation failed\n\nmax-queues should be a number, actually was true\n" });
    expect(await bad({})).toEqual({ error: "bad_request", reason: "[{key_missing,value}]" });
    expect((await suite.w.api("PUT", `/api/vhost-limits/${v}/max-foo`, { body: { value: 2 } })).json).toEqual({
      error: "bad_request",
      reason: 'Validation failed\n\nUnrecognised terms [{<<"max-foo">>,2}] in limits\n',
    });
    expect(await suite.w.api("PUT", "/api/vhost-limits/no-such-vhost/max-queues", { body: { value: 2 } })).toMatchObject({ status: 404, json: { error: "not_found", reason: "vhost_not_found" } });
    expect((await suite.w.api("GET", "/api/vhost-limits/no-such-vhost")).status).toBe(404);
    expect((await suite.w.api("DELETE", `/api/vhost-limits/${v}/max-queues`)).status).toBe(204);
    expect((await suite.w.api("DELETE", `/api/vhost-limits/${v}/max-queues`)).status).toBe(204);
    expect((await suite.w.api("GET", `/api/vhost-limits/${v}`)).json).toEqual([{ vhost, value: { "max-connections": -1 } }]);
    // Administrator only.
    const { user } = await tenant();
    await ok("set_user_tags", user, "management");
    expect((await suite.w.api("PUT", `/api/vhost-limits/${v}/max-queues`, { body: { value: 1 }, user, password: "pw" })).status).toBe(403);
  });
});

describe("user limits", () => {
  test("max-connections refuses the user's next connection with 530", async () => {
    const { vhost, user } = await tenant();
    expect(await ok("set_user_limits", user, '{"max-connections": 1}')).toBe(`Setting user limits to "{"max-connections": 1}" for user "${user}" ...\n`);
    const first = await opened(suite.w.amqpUrl(user, "pw", vhost));
    expect(await openRefusal(user, "pw", vhost)).toEqual({
      replyCode: 530,
      replyText: `NOT_ALLOWED - connection refused for user '${user}': user connection limit (1) is reached`,
      classId: 10,
      methodId: 40,
    });
    await (await opened(suite.w.amqpUrl("guest", "guest", vhost))).close(); // other users are not affected
    await first.close();
    await (await opened(suite.w.amqpUrl(user, "pw", vhost))).close();
  });

  test("max-channels counts the user's channels over all its connections; the next channel.open closes the connection with 530", async () => {
    const { vhost, user } = await tenant();
    await ok("set_user_limits", user, '{"max-channels": 2}');
    const a = await opened(suite.w.amqpUrl(user, "pw", vhost));
    await a.channel();
    const raw = await RawAmqp.connect(suite.w.broker.port);
    await raw.handshake({ user, password: "pw", vhost });
    await raw.openChannel(1);
    raw.sendMethod(2, { name: "channel.open" });
    expect(await raw.expectConnectionClose()).toEqual({
      replyCode: 530,
      replyText: `NOT_ALLOWED - number of channels opened for user '${user}' has reached the maximum allowed user limit of (2)`,
      classId: 0,
      methodId: 0,
    });
    await raw.close();
    // The closed connection's channel no longer counts.
    await a.channel();
    expect(await errorOf(a.channel())).toContain("maximum allowed user limit of (2)");
  });

  test("ctl set (merges) / list / clear and their errors, as rabbitmqctl 3.10", async () => {
    const { user } = await tenant();
    expect(await ok("list_user_limits", user)).toBe(`Listing limits for user "${user}" ...\n{}\n`);
    await ok("set_user_limits", user, '{"max-channels": 5}');
    await ok("set_user_limits", user, '{"max-connections": 3}');
    expect(await ok("-q", "list_user_limits", user)).toBe('{"max-channels":5,"max-connections":3}\n');
    expect(await ok("-q", "list_user_limits")).toBe("{}\n"); // the ctl's own user, guest
    expect(await ok("-q", "list_user_limits", "--global")).toContain(`${user}\t{"max-channels":5,"max-connections":3}\n`);
    expect(await suite.w.ctl("-q", "set_user_limits", user, '{"max-queues": 5}')).toEqual({ code: 69, stdout: "", stderr: 'Error:\nUnrecognised terms [{<<"max-queues">>,5}] in user-limits\n' });
    expect((await suite.w.ctl("-q", "set_user_limits", user, '{"max-channels": "x"}')).stderr).toBe('Error:\nmax-channels should be a number, actually was <<"x">>\n');
    expect(await suite.w.ctl("-q", "set_user_limits", "no-such-user", '{"max-channels": 5}')).toEqual({ code: 69, stdout: "", stderr: 'Error:\n{:no_such_user, "no-such-user"}\n' });
    expect(await ok("clear_user_limits", user, "max-channels")).toBe(`Clearing "max-channels" limit for user "${user}" ...\n`);
    expect(await ok("-q", "list_user_limits", user)).toBe('{"max-connections":3}\n');
    expect(await ok("clear_user_limits", user, "all")).toBe(`Clearing all limits for user "${user}" ...\n`);
    expect(await ok("-q", "list_user_limits", user)).toBe("{}\n");
    expect((await suite.w.ctl("-q", "clear_user_limits", "no-such-user", "all")).code).toBe(69);
  });

  test("API: list, one user, PUT and DELETE of one limit, RabbitMQ's errors", async () => {
    const { user } = await tenant();
    const u = encodeURIComponent(user);
    expect((await suite.w.api("PUT", `/api/user-limits/${u}/max-channels`, { body: { value: 2 } })).status).toBe(204);
    expect((await suite.w.api("GET", `/api/user-limits/${u}`)).json).toEqual([{ user, value: { "max-channels": 2 } }]);
    expect((await suite.w.api("GET", "/api/user-limits")).json).toContainEqual({ user, value: { "max-channels": 2 } });
    expect((await suite.w.api("GET", `/api/users/${u}`)).json).toMatchObject({ name: user, limits: { "max-channels": 2 } });
    expect((await suite.w.api("GET", "/api/user-limits/guest")).json).toEqual([]);
    expect((await suite.w.api("GET", "/api/user-limits/no-such-user")).status).toBe(404);
    expect((await suite.w.api("PUT", `/api/user-limits/${u}/max-queues`, { body: { value: 2 } })).json).toEqual({ error: "bad_request", reason: 'Unrecognised terms [{<<"max-queues">>,2}] in user-limits' });
    expect((await suite.w.api("PUT", `/api/user-limits/${u}/max-channels`, { body: { value: "a" } })).json).toEqual({ error: "bad_request", reason: 'max-channels should be a number, actually was <<"a">>' });
    expect((await suite.w.api("PUT", "/api/user-limits/no-such-user/max-channels", { body: { value: 2 } })).json).toEqual({ error: "bad_request", reason: ["no_such_user", "no-such-user"] });
    expect((await suite.w.api("DELETE", `/api/user-limits/${u}/max-channels`)).status).toBe(204);
    expect((await suite.w.api("GET", `/api/user-limits/${u}`)).json).toEqual([]);
  });
});

describe("limits in the definitions", () => {
  test("exported where RabbitMQ puts them, imported (and obeyed by the imported queues)", async () => {
    const { vhost, user } = await tenant();
    await ok("set_vhost_limits", "-p", vhost, '{"max-queues": 4}');
    await ok("set_user_limits", user, '{"max-channels": 9}');
    const defs = (await suite.w.api("GET", "/api/definitions")).json as { parameters: unknown[]; users: { name: string; limits?: unknown }[] };
    expect(defs.parameters).toContainEqual({ vhost, component: "vhost-limits", name: "limits", value: { "max-queues": 4 } });
    expect(defs.users.find((x) => x.name === user)?.limits).toEqual({ "max-channels": 9 });

    const target = uniq("imported");
    const file = join(scratch, "limits.json");
    writeFileSync(file, JSON.stringify({
      vhosts: [{ name: target }],
      parameters: [{ vhost: target, component: "vhost-limits", name: "limits", value: { "max-queues": 1 } }],
      queues: [
        { name: "a", vhost: target, durable: true, auto_delete: false, arguments: {} },
        { name: "b", vhost: target, durable: true, auto_delete: false, arguments: {} },
      ],
    }));
    const imported = await suite.w.ctl("import_definitions", file);
    expect(imported.code).toBe(65);
    expect(imported.stderr).toContain(`cannot declare queue 'b': queue limit in vhost '${target}' (1) is reached`);
    expect((await suite.w.api("GET", `/api/vhost-limits/${encodeURIComponent(target)}`)).json).toEqual([{ vhost: target, value: { "max-queues": 1 } }]);
    expect(((await suite.w.api("GET", `/api/queues/${encodeURIComponent(target)}`)).json as { name: string }[]).map((q) => q.name)).toEqual(["a"]);

    const invalid = await suite.w.api("POST", "/api/definitions", { body: { parameters: [{ vhost: target, component: "vhost-limits", name: "limits", value: { "max-foo": 1 } }] } });
    expect(invalid.json).toEqual({ error: "bad_request", reason: 'Validation failed\n\nUnrecognised terms [{<<"max-foo">>,1}] in limits\n' });
  });

  test("limits survive a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "warren-limits-restart-"));
    try {
      let b = await startAdminBroker({ dataDir });
      await b.ctl("set_vhost_limits", '{"max-queues": 1}');
      await b.ctl("set_user_limits", "guest", '{"max-channels": 3}');
      await b.broker.stop();
      b = await startAdminBroker({ dataDir });
      try {
        expect((await b.ctl("-q", "list_vhost_limits")).stdout).toBe('{"max-queues":1}\n');
        expect((await b.ctl("-q", "list_user_limits", "guest")).stdout).toBe('{"max-channels":3}\n');
        const ch = await (await connect(b.amqpUrl("guest", "guest"))).channel();
        await ch.queue("only");
        expect(await errorOf(ch.queue("second"))).toContain("cannot declare queue 'second': queue limit in vhost '/' (1) is reached");
      } finally {
        await b.broker.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
