// Policies and operator policies through the management API and `bun run ctl`: RabbitMQ 3.10's
// JSON, validation texts (checked against a RabbitMQ 3.10.8), access rules, rabbitmqctl's
// banners, tables and exit codes; policies kept across restarts and carried by definitions.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokersDisposedAfterAll, connect, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";

let w: AdminBroker;
const track = brokersDisposedAfterAll();

beforeAll(async () => {
  w = await track(startAdminBroker());
});


/** A vhost guest may declare in. */
async function addVhost(b: AdminBroker, name: string): Promise<void> {
  expect((await b.api("PUT", `/api/vhosts/${name}`, { body: {} })).status).toBe(201);
  expect((await b.api("PUT", `/api/permissions/${name}/guest`, { body: { configure: ".*", write: ".*", read: ".*" } })).status).toBe(201);
}

async function put(b: AdminBroker, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await b.api("PUT", path, { body });
  return { status: r.status, json: r.json };
}

describe("management API", () => {
  test("set, show, list (by priority), update, clear; RabbitMQ's JSON", async () => {
    await w.api("PUT", "/api/vhosts/shapes", { body: {} });
    expect((await put(w, "/api/policies/shapes/b", { pattern: "^b", definition: { "max-length": 5, "message-ttl": 1000 }, priority: 3, "apply-to": "queues" })).status).toBe(201);
    expect((await put(w, "/api/policies/shapes/a", { pattern: "^a", definition: { "alternate-exchange": "ae" }, "apply-to": "exchanges" })).status).toBe(201);
    expect((await put(w, "/api/policies/shapes/b", { pattern: "^b", definition: { "max-length": 5, "message-ttl": 1000 }, priority: 3, "apply-to": "queues" })).status).toBe(204);
    const b = { vhost: "shapes", name: "b", pattern: "^b", "apply-to": "queues", definition: { "max-length": 5, "message-ttl": 1000 }, priority: 3 };
    const a = { vhost: "shapes", name: "a", pattern: "^a", "apply-to": "exchanges", definition: { "alternate-exchange": "ae" }, priority: 0 };
    expect((await w.api("GET", "/api/policies/shapes/b")).json).toEqual(b);
    expect((await w.api("GET", "/api/policies/shapes")).json).toEqual([a, b]);
    expect((await w.api("GET", "/api/policies")).json).toEqual([a, b]);
    expect((await put(w, "/api/operator-policies/shapes/cap", { pattern: ".*", definition: { "max-length": 2 } })).status).toBe(201);
    expect((await w.api("GET", "/api/operator-policies/shapes")).json).toEqual([{ vhost: "shapes", name: "cap", pattern: ".*", "apply-to": "all", definition: { "max-length": 2 }, priority: 0 }]);
    expect((await w.api("GET", "/api/policies/shapes/nope")).status).toBe(404);
    expect((await w.api("DELETE", "/api/policies/shapes/nope")).status).toBe(404);
    expect((await w.api("DELETE", "/api/policies/shapes/a")).status).toBe(204);
    expect((await w.api("DELETE", "/api/operator-policies/shapes/cap")).status).toBe(204);
    expect((await w.api("GET", "/api/policies/shapes")).json).toEqual([b]);
    expect((await w.api("GET", "/api/policies/nohost")).json).toEqual({ error: "Object Not Found", reason: "Not Found" });
    expect(await put(w, "/api/policies/nohost/x", { pattern: "x", definition: { "max-length": 1 } })).toEqual({ status: 404, json: { error: "not_found", reason: "vhost_not_found" } });
    await w.api("DELETE", "/api/vhosts/shapes");
  });

  test("queues show policy, operator_policy and effective_policy_definition; exchanges show their policy", async () => {
    await addVhost(w, "rows");
    await w.api("PUT", "/api/queues/rows/plain", { body: {} });
    await w.api("PUT", "/api/queues/rows/capped", { body: { arguments: { "x-max-length": 3 } } });
    await w.api("PUT", "/api/exchanges/rows/events", { body: { type: "topic" } });
    await put(w, "/api/policies/rows/p", { pattern: "^capped$", definition: { "max-length": 5, "message-ttl": 1000 } });
    await put(w, "/api/operator-policies/rows/o", { pattern: "^capped$", definition: { "max-length": 2 } });
    await put(w, "/api/policies/rows/x", { pattern: "^events$", definition: { "alternate-exchange": "unrouted" }, "apply-to": "exchanges" });
    expect((await w.api("GET", "/api/queues/rows/capped")).json).toMatchObject({
      arguments: { "x-max-length": 3 },
      policy: "p",
      operator_policy: "o",
      effective_policy_definition: { "max-length": 2, "message-ttl": 1000 },
    });
    expect((await w.api("GET", "/api/queues/rows")).json).toContainEqual(expect.objectContaining({ name: "plain", policy: null, operator_policy: null, effective_policy_definition: {} }));
    expect((await w.api("GET", "/api/exchanges/rows/events")).json).toMatchObject({ policy: "x" });
    expect((await w.api("GET", "/api/exchanges/rows/amq.topic")).json).not.toHaveProperty("policy");
    await w.api("DELETE", "/api/vhosts/rows");
  });

  test("invalid policies: RabbitMQ 3.10's 400 texts (HTML-escaped for policies, as its API does)", async () => {
    const reason = async (body: unknown, kind = "policies"): Promise<unknown> => {
      const r = await put(w, `/api/${kind}/%2F/bad`, body);
      expect(r.status).toBe(400);
      return (r.json as { reason: string }).reason;
    };
    expect(await reason({ pattern: "^a", definition: { "max-length": -5 } })).toBe("Validation failed\n\n-5 is not a valid maximum length\n");
    expect(await reason({ pattern: "^a", definition: { "max-length": "x" } })).toBe('Validation failed\n\n&lt;&lt;"x"&gt;&gt; is not a valid maximum length\n');
    expect(await reason({ pattern: "^a", definition: { foo: 1, bar: "x" } })).toBe('Validation failed\n\n[{&lt;&lt;"bar"&gt;&gt;,&lt;&lt;"x"&gt;&gt;},{&lt;&lt;"foo"&gt;&gt;,1}] are not recognised policy settings\n');
    expect(await reason({ pattern: "^a", definition: {} })).toBe("Validation failed\n\nno policy provided\n");
    expect(await reason({})).toBe("[{key_missing,pattern},{key_missing,definition}]");
    expect(await reason({ pattern: "^a" })).toBe("[{key_missing,definition}]");
    expect(await reason({ pattern: "^a", definition: { "max-length": 1.5 } })).toBe("Validation failed\n\n1.5 is not a valid maximum length\n");
    expect(await reason({ pattern: "^a", definition: { expires: 0 } })).toBe("Validation failed\n\n0 is not a valid queue expiry\n");
    expect(await reason({ pattern: "^a", definition: { "message-ttl": -1 } })).toBe("Validation failed\n\n-1 is not a valid message TTL\n");
    expect(await reason({ pattern: "^a", definition: { "dead-letter-exchange": 5 } })).toBe("Validation failed\n\n5 is not a valid dead letter exchange name\n");
    expect(await reason({ pattern: "^a", definition: { overflow: "x" } })).toBe('Validation failed\n\n&lt;&lt;"x"&gt;&gt; is not a valid overflow value\n');
    expect(await reason({ pattern: "^a", definition: { "max-length": -1, "alternate-exchange": 1 } })).toBe("Validation failed\n\n1 is not a valid alternate exchange name\n");
    expect(await reason({ pattern: "^a", definition: { "max-length": null } })).toBe("Validation failed\n\nnull is not a valid maximum length\n");
    expect(await reason({ pattern: 5, definition: { "max-length": 1 } })).toBe("Validation failed\n\npattern should be a binary but was 5\n");
    expect(await reason({ pattern: "^a", definition: { "max-length": 1 }, priority: null })).toBe("Validation failed\n\npriority should be a number, actually was null\n");
    expect(await reason({ pattern: 5, definition: { "max-length": -1 }, priority: "x", "apply-to": "foo" })).toBe(
      "Validation failed\n\n-1 is not a valid maximum length\napply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'\npattern should be a binary but was 5\npriority should be a number, actually was &lt;&lt;\"x\"&gt;&gt;\n",
    );
    expect(await reason({ pattern: "(", definition: { "max-length": 1 } })).toStartWith("Validation failed\n\npattern should be regular expression but is invalid: ");
    // Operator policies take only their keys, and their texts are not escaped.
    expect(await reason({ pattern: "^a", definition: { "dead-letter-exchange": "x" } }, "operator-policies")).toBe('Validation failed\n\n[{<<"dead-letter-exchange">>,<<"x">>}] are not recognised policy settings\n');
    // What Warren does not implement is refused, not stored and ignored.
    expect(await reason({ pattern: "^a", definition: { "max-in-memory-length": 5 } })).toStartWith("Validation failed\n\nWarren does not support max-in-memory-length");
    expect(await reason({ pattern: "^a", definition: { "ha-mode": "all" } })).toBe("Validation failed\n\nWarren does not support ha-mode (classic queue mirroring)\n");
    expect((await w.api("GET", "/api/policies/%2F/bad")).status).toBe(404);
  });

  test("access: policies need policymaker (or administrator) and the vhost; operator policies need administrator", async () => {
    await w.api("PUT", "/api/vhosts/team", { body: {} });
    for (const [user, tags] of [["maker", "policymaker"], ["viewer", "management"]] as const) {
      await w.api("PUT", `/api/users/${user}`, { body: { password: "pw", tags } });
      await w.api("PUT", `/api/permissions/team/${user}`, { body: { configure: ".*", write: ".*", read: ".*" } });
    }
    const as = (user: string, method: string, path: string, body?: unknown) => w.api(method, path, { user, password: "pw", ...(body === undefined ? {} : { body }) });
    const policy = { pattern: "^t", definition: { "max-length": 1 } };
    expect((await as("maker", "PUT", "/api/policies/team/t", policy)).status).toBe(201);
    expect((await as("maker", "PUT", "/api/policies/%2F/t", policy)).json).toEqual({ error: "not_authorised", reason: "User not authorised to access object" });
    expect((await as("maker", "PUT", "/api/operator-policies/team/t", policy)).status).toBe(403);
    expect((await as("viewer", "PUT", "/api/policies/team/v", policy)).status).toBe(403);
    expect((await as("viewer", "GET", "/api/policies/team")).json).toEqual([expect.objectContaining({ name: "t" })]);
    expect((await as("viewer", "GET", "/api/policies")).json).toEqual([expect.objectContaining({ name: "t", vhost: "team" })]);
    await w.api("DELETE", "/api/vhosts/team");
  });
});

describe("bun run ctl", () => {
  test("set_policy, list_policies, clear_policy: rabbitmqctl's banners, table and JSON", async () => {
    await addVhost(w, "ctl");
    let r = await w.ctl("set_policy", "-p", "ctl", "cap", "^q", '{"max-length":5,"message-ttl":1000}', "--priority", "3", "--apply-to", "queues");
    expect(r).toEqual({ code: 0, stdout: 'Setting policy "cap" for pattern "^q" to "{"max-length":5,"message-ttl":1000}" with priority "3" for vhost "ctl" ...\n', stderr: "" });
    expect((await w.ctl("set_policy", "-p", "ctl", "ae", "^x", '{"alternate-exchange":"ae"}')).code).toBe(0);
    r = await w.ctl("list_policies", "-p", "ctl");
    expect(r.stdout).toBe('Listing policies for vhost "ctl" ...\nvhost\tname\tpattern\tapply-to\tdefinition\tpriority\nctl\tae\t^x\tall\t{"alternate-exchange":"ae"}\t0\nctl\tcap\t^q\tqueues\t{"max-length":5,"message-ttl":1000}\t3\n');
    r = await w.ctl("list_policies", "-p", "ctl", "--formatter", "json");
    expect(r.stdout).toBe('[\n{"vhost":"ctl","name":"ae","pattern":"^x","apply-to":"all","definition":"{\\"alternate-exchange\\":\\"ae\\"}","priority":0}\n,{"vhost":"ctl","name":"cap","pattern":"^q","apply-to":"queues","definition":"{\\"max-length\\":5,\\"message-ttl\\":1000}","priority":3}\n]\n');
    await w.api("PUT", "/api/queues/ctl/q1", { body: {} });
    expect((await w.ctl("list_queues", "-p", "ctl", "-q", "name", "policy")).stdout).toBe("name\tpolicy\nq1\tcap\n");
    expect((await w.ctl("clear_policy", "-p", "ctl", "cap")).stdout).toBe('Clearing policy "cap" on vhost "ctl" ...\n');
    expect((await w.ctl("list_queues", "-p", "ctl", "-q", "name", "policy")).stdout).toBe("name\tpolicy\nq1\t\n");
    await w.api("DELETE", "/api/vhosts/ctl");
  });

  test("set_operator_policy, list_operator_policies, clear_operator_policy", async () => {
    let r = await w.ctl("set_operator_policy", "limit", ".*", '{"max-length":100}', "--apply-to", "queues");
    expect(r.stdout).toBe('Setting operator policy override "limit" for pattern ".*" to "{"max-length":100}" with priority "0" for vhost "/" ...\n');
    r = await w.ctl("list_operator_policies");
    expect(r.stdout).toBe('Listing operator policy overrides for vhost "/" ...\nvhost\tname\tpattern\tapply-to\tdefinition\tpriority\n/\tlimit\t.*\tqueues\t{"max-length":100}\t0\n');
    expect((await w.ctl("clear_operator_policy", "limit")).stdout).toBe('Clearing operator policy "limit" on vhost "/" ...\n');
    r = await w.ctl("set_operator_policy", "dlx", ".*", '{"dead-letter-exchange":"x"}');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 69, stderr: 'Error:\nValidation failed\n\n[{<<"dead-letter-exchange">>,<<"x">>}] are not recognised policy settings\n\n' });
  });

  test("errors: rabbitmqctl's texts and exit codes", async () => {
    let r = await w.ctl("set_policy", "p", "^b", '{"max-length":"x"}');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 69, stderr: 'Error:\nValidation failed\n\n<<"x">> is not a valid maximum length\n\n' });
    r = await w.ctl("set_policy", "p", "^b", "{bad");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 69, stderr: "Error:\nJSON decoding error. Reason: badarg\n" });
    r = await w.ctl("set_policy", "-p", "nohost", "p", "^b", '{"max-length":1}');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 65, stderr: "Virtual host 'nohost' does not exist\n" });
    r = await w.ctl("set_policy", "p", "^b", '{"max-length":1}', "--priority", "x");
    expect(r.code).toBe(64);
    expect(r.stderr).toStartWith("Error (argument validation): Invalid options for this command:\n--priority : x\n");
    r = await w.ctl("clear_policy", "nope");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 69, stderr: "Error:\nParameter does not exist\n" });
    r = await w.ctl("list_policies", "-p", "nohost");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 65, stderr: "Virtual host 'nohost' does not exist\n" });
    expect((await w.ctl("set_policy", "p")).code).toBe(64);
  });
});

describe("persistence", () => {
  test("a restart keeps policies and operator policies, and recovered queues are under them again", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "warren-policies-"));
    try {
      let b = await track(startAdminBroker({ dataDir }));
      await b.api("PUT", "/api/queues/%2F/kept", { body: { durable: true } });
      expect((await put(b, "/api/policies/%2F/cap", { pattern: "^kept$", definition: { "max-length": 10 }, priority: 2 })).status).toBe(201);
      expect((await put(b, "/api/operator-policies/%2F/op", { pattern: ".*", definition: { "max-length": 1 }, "apply-to": "queues" })).status).toBe(201);
      await b.broker.stop();
      b = await track(startAdminBroker({ dataDir }));
      expect((await b.api("GET", "/api/policies/%2F")).json).toEqual([{ vhost: "/", name: "cap", pattern: "^kept$", "apply-to": "all", definition: { "max-length": 10 }, priority: 2 }]);
      expect((await b.api("GET", "/api/operator-policies/%2F")).json).toEqual([{ vhost: "/", name: "op", pattern: ".*", "apply-to": "queues", definition: { "max-length": 1 }, priority: 0 }]);
      expect((await b.api("GET", "/api/queues/%2F/kept")).json).toMatchObject({ policy: "cap", operator_policy: "op", effective_policy_definition: { "max-length": 1 } });
      const conn = await connect(b.amqpUrl("guest", "guest"));
      const ch = await conn.channel();
      await ch.confirmSelect();
      for (const body of ["a", "b", "c"]) await ch.basicPublish("", "kept", body);
      expect((await ch.queueDeclare("kept", { passive: true })).messageCount).toBe(1);
      expect((await ch.basicGet("kept", { noAck: true }))?.bodyToString()).toBe("c");
      await conn.close().catch(() => {});
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("definitions: exported in RabbitMQ's shape (operator policies among the parameters) and imported into a fresh broker", async () => {
    const source = await track(startAdminBroker());
    await addVhost(source, "shop");
    await put(source, "/api/policies/shop/dlx", { pattern: "^orders", definition: { "dead-letter-exchange": "dead", "max-length": 100 }, priority: 1, "apply-to": "queues" });
    await put(source, "/api/operator-policies/shop/cap", { pattern: ".*", definition: { "max-length-bytes": 1048576 } });
    const defs = (await source.api("GET", "/api/definitions")).json as Record<string, unknown>;
    expect(defs["policies"]).toEqual([{ vhost: "shop", name: "dlx", pattern: "^orders", "apply-to": "queues", definition: { "dead-letter-exchange": "dead", "max-length": 100 }, priority: 1 }]);
    expect(defs["parameters"]).toEqual([{ value: { pattern: ".*", definition: { "max-length-bytes": 1048576 }, priority: 0, "apply-to": "all" }, vhost: "shop", component: "operator_policy", name: "cap" }]);
    const target = await track(startAdminBroker());
    expect((await target.api("POST", "/api/definitions", { body: defs })).status).toBe(204);
    await target.api("PUT", "/api/permissions/shop/guest", { body: { configure: ".*", write: ".*", read: ".*" } });
    expect((await target.api("GET", "/api/policies/shop")).json).toEqual(defs["policies"]);
    expect((await target.api("GET", "/api/operator-policies/shop/cap")).json).toEqual({ vhost: "shop", name: "cap", pattern: ".*", "apply-to": "all", definition: { "max-length-bytes": 1048576 }, priority: 0 });
    await target.api("PUT", "/api/queues/shop/orders.new", { body: {} });
    expect((await target.api("GET", "/api/queues/shop/orders.new")).json).toMatchObject({ policy: "dlx", operator_policy: "cap" });
  });

  test("an import with an invalid policy is refused whole", async () => {
    const target = await track(startAdminBroker());
    const r = await target.api("POST", "/api/definitions", {
      body: { vhosts: [{ name: "fresh" }], policies: [{ vhost: "fresh", name: "bad", pattern: "^a", definition: { "max-length": -1 }, priority: 0, "apply-to": "all" }] },
    });
    expect(r.status).toBe(400);
    expect((r.json as { reason: string }).reason).toBe("policy 'bad' in vhost 'fresh': Validation failed\n\n-1 is not a valid maximum length\n");
    expect((await target.api("GET", "/api/vhosts/fresh")).status).toBe(404);
  });
});
