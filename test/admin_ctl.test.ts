// `bun run ctl` against a running Warren, checked against rabbitmqctl 3.10's output: banners,
// tab-separated tables with a header line, -q, --formatter json, error texts and exit codes.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./support/broker_process.ts";
import { connect, ctlTestFile, runCtl, startAdminBroker } from "./admin_helpers.ts";
import { uniq } from "./support/amqp_client_helpers.ts";

const suite = ctlTestFile("warren-ctl-");
const { open, scratch, ok } = suite;

describe("vhosts and users", () => {
  test("a fresh broker's vhosts and users", async () => {
    expect(await ok("list_vhosts")).toBe("Listing vhosts ...\nname\n/\n");
    expect(await ok("list_users")).toBe("Listing users ...\nuser\ttags\nguest\t[administrator]\n");
    expect(await ok("-q", "list_vhosts")).toBe("name\n/\n");
    expect(await ok("list_vhosts", "--no-table-headers")).toBe("Listing vhosts ...\n/\n");
    expect(await ok("list_users", "--formatter", "json")).toBe('[\n{"user":"guest","tags":["administrator"]}\n]\n');
  });

  test("create a vhost and a user for an application", async () => {
    expect(await ok("add_vhost", "shop")).toBe('Adding vhost "shop" ...\n');
    expect(await ok("add_user", "shop-app", "s3cret")).toBe(
      "Adding user \"shop-app\" ...\nDone. Don't forget to grant the user permissions to some virtual hosts! See 'rabbitmqctl help set_permissions' to learn more.\n",
    );
    expect(await ok("set_permissions", "-p", "shop", "shop-app", "^shop\\.", "^shop\\.", "^shop\\.")).toBe('Setting permissions for user "shop-app" in vhost "shop" ...\n');
    expect(await ok("list_permissions", "-p", "shop")).toBe('Listing permissions for vhost "shop" ...\nuser\tconfigure\twrite\tread\nshop-app\t^shop\\.\t^shop\\.\t^shop\\.\n');
    expect(await ok("list_user_permissions", "shop-app")).toBe('Listing permissions for user "shop-app" ...\nvhost\tconfigure\twrite\tread\nshop\t^shop\\.\t^shop\\.\t^shop\\.\n');
    expect(await ok("authenticate_user", "shop-app", "s3cret")).toBe('Authenticating user "shop-app" ...\nSuccess\n');
    expect(await ok("set_user_tags", "shop-app", "monitoring", "management")).toBe('Setting tags for user "shop-app" to [monitoring, management] ...\n');
    expect(await ok("-q", "list_users")).toBe("user\ttags\nguest\t[administrator]\nshop-app\t[monitoring, management]\n");
    expect(await ok("change_password", "shop-app", "n3w")).toBe('Changing password for user "shop-app" ...\n');
    expect(await ok("authenticate_user", "shop-app", "n3w")).toBe('Authenticating user "shop-app" ...\nSuccess\n');
    // The application can now connect to its vhost.
    const conn = await connect(suite.w.amqpUrl("shop-app", "n3w", "shop"));
    open.push(conn);
    await (await conn.channel()).queueDeclare("shop.orders");
    await conn.close();
    expect(await ok("clear_permissions", "-p", "shop", "shop-app")).toBe('Clearing permissions for user "shop-app" in vhost "shop" ...\n');
    expect(await ok("-q", "list_permissions", "-p", "shop")).toBe("user\tconfigure\twrite\tread\n");
  });

  test("errors with rabbitmqctl's texts and exit codes", async () => {
    const user = uniq("dup");
    await ok("add_user", user, "pw");
    expect(await suite.w.ctl("add_user", user, "pw")).toEqual({ code: 70, stdout: `Adding user "${user}" ...\n`, stderr: `Error:\nUser "${user}" already exists\n` });
    expect(await suite.w.ctl("authenticate_user", user, "bad")).toEqual({
      code: 65,
      stdout: `Authenticating user "${user}" ...\n`,
      stderr: `Error:\nError: failed to authenticate user "${user}"\nuser '${user}' - invalid credentials\n`,
    });
    expect(await suite.w.ctl("delete_user", "nobody")).toEqual({ code: 67, stdout: 'Deleting user "nobody" ...\n', stderr: 'Error:\nUser "nobody" does not exist\n' });
    expect((await suite.w.ctl("change_password", "nobody", "x")).code).toBe(67);
    expect((await suite.w.ctl("set_user_tags", "nobody", "x")).code).toBe(67);
    expect(await suite.w.ctl("delete_vhost", "nowhere")).toEqual({ code: 65, stdout: 'Deleting vhost "nowhere" ...\n', stderr: "Virtual host 'nowhere' does not exist\n" });
    expect((await suite.w.ctl("set_permissions", "-p", "nowhere", user, ".*", ".*", ".*")).stderr).toBe("Error:\nVirtual host nowhere does not exist\n");
    expect((await suite.w.ctl("set_permissions", "-p", "nowhere", user, ".*", ".*", ".*")).code).toBe(69);
    expect(await suite.w.ctl("set_permissions", "nobody", ".*", ".*", ".*")).toMatchObject({ code: 67, stderr: "Error:\nUser nobody does not exist\n" });
    expect(await suite.w.ctl("list_permissions", "-p", "nowhere")).toMatchObject({ code: 65, stderr: "Virtual host 'nowhere' does not exist\n" });
    await ok("delete_user", user);
  });

  test("usage errors exit 64", async () => {
    const few = await suite.w.ctl("add_user", "only-name");
    expect(few.code).toBe(64);
    expect(few.stderr).toStartWith("Error (argument validation): not enough arguments.");
    expect(few.stderr).toContain("add_user <username> <password>");
    expect((await suite.w.ctl("add_vhost", "a", "b")).stderr).toStartWith("Error (argument validation): too many arguments.");
    expect((await suite.w.ctl("list_queues", "name", "bogus")).stderr).toStartWith("Error (argument validation): Info key(s) bogus are not supported");
    expect((await suite.w.ctl("no_such_verb")).code).toBe(64);
    expect((await suite.w.ctl("list_vhosts", "--formatter", "xml")).code).toBe(64);
    expect((await suite.w.ctl()).code).toBe(64);
    expect((await suite.w.ctl("delete_vhost", "--if-empty", "x")).code).toBe(64);
    expect((await suite.w.ctl("help")).code).toBe(0);
  });
});

describe("queues, exchanges, bindings, connections", () => {
  test("listings with traffic, then purge and delete", async () => {
    const conn = await connect(`${suite.w.amqpUrl("guest", "guest")}?name=ctl-test`);
    open.push(conn);
    const ch = await conn.channel();
    await ch.exchangeDeclare("ctl.x", "direct", { durable: true });
    await ch.queueDeclare("ctl.q", { durable: true }, { "x-max-length": 10 });
    await ch.queueBind("ctl.q", "ctl.x", "rk");
    await ch.confirmSelect();
    for (let i = 0; i < 4; i++) await ch.basicPublish("ctl.x", "rk", `m${i}`);
    await ch.prefetch(1);
    await ch.basicConsume("ctl.q", { tag: "ctl-consumer", noAck: false }, () => {});
    await Bun.sleep(200);

    expect(await ok("list_queues")).toBe("Listing queues for vhost / ...\nname\tmessages\nctl.q\t4\n");
    expect(await ok("-q", "list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers", "durable", "auto_delete", "exclusive", "arguments")).toBe(
      'name\tmessages_ready\tmessages_unacknowledged\tconsumers\tdurable\tauto_delete\texclusive\targuments\nctl.q\t3\t1\t1\ttrue\tfalse\tfalse\t[{"x-max-length",10}]\n',
    );
    expect(await ok("-q", "--formatter", "json", "list_queues", "name", "messages", "arguments")).toBe('[\n{"name":"ctl.q","messages":4,"arguments":{"x-max-length":10}}\n]\n');
    expect(await ok("-q", "list_exchanges")).toBe("name\ttype\n\tdirect\namq.direct\tdirect\namq.fanout\tfanout\namq.headers\theaders\namq.match\theaders\namq.topic\ttopic\nctl.x\tdirect\n");
    expect(await ok("list_bindings")).toBe(
      "Listing bindings for vhost /...\nsource_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n" +
        "\texchange\tctl.q\tqueue\tctl.q\t[]\nctl.x\texchange\tctl.q\tqueue\trk\t[]\n",
    );
    const connections = await ok("-q", "list_connections", "name", "user", "vhost", "channels", "state");
    const name = connections.split("\n")[1]!.split("\t")[0]!;
    expect(connections).toBe(`name\tuser\tvhost\tchannels\tstate\n${name}\tguest\t/\t1\trunning\n`);
    expect(name).toMatch(/^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
    expect(await ok("-q", "list_channels")).toBe(`pid\tuser\tconsumer_count\tmessages_unacknowledged\n${name} (1)\tguest\t1\t1\n`);
    expect(await ok("-q", "list_consumers")).toBe(
      `queue_name\tchannel_pid\tconsumer_tag\tack_required\tprefetch_count\tactive\targuments\nctl.q\t${name} (1)\tctl-consumer\ttrue\t1\ttrue\t[]\n`,
    );
    expect(await ok("close_connection", name, "ctl says bye")).toBe(`Closing connection ${name}, reason: ctl says bye...\n`);
    await Bun.sleep(200);
    expect(conn.closed).toBe(true);
    expect(await ok("-q", "list_connections")).toBe("user\tpeer_host\tpeer_port\tstate\n");

    expect(await ok("purge_queue", "ctl.q")).toBe("Purging queue 'ctl.q' in vhost '/' ...\n");
    expect(await ok("-q", "list_queues")).toBe("name\tmessages\nctl.q\t0\n");
    expect(await ok("delete_queue", "ctl.q")).toBe("Deleting queue 'ctl.q' on vhost '/' ...\nQueue was successfully deleted with 0 ready messages\n");
    expect(await suite.w.ctl("delete_queue", "ctl.q")).toMatchObject({ code: 64, stderr: "Error:\nQueue not found\n" });
    expect(await suite.w.ctl("purge_queue", "ctl.q")).toMatchObject({ code: 69, stderr: "Error:\nnot_found\n" });
  });

  test("-p selects the vhost", async () => {
    await ok("add_vhost", "other");
    await ok("set_permissions", "-p", "other", "guest", ".*", ".*", ".*");
    await suite.w.api("PUT", "/api/queues/other/only-here", { body: {} });
    expect(await ok("-q", "list_queues", "-p", "other")).toBe("name\tmessages\nonly-here\t0\n");
    expect(await ok("-q", "list_queues", "--vhost=other", "name")).toBe("name\nonly-here\n");
    expect(await ok("-q", "list_queues", "name")).not.toContain("only-here");
  });
});

describe("node", () => {
  test("status", async () => {
    const out = await ok("status");
    expect(out).toStartWith("Status of node warren@");
    expect(out).toContain("Product name: Warren\n");
    expect(out).toMatch(/Virtual host count: \d+\n/);
    expect(out).toContain(`Interface: 127.0.0.1, port: ${suite.w.broker.port}, protocol: amqp, purpose: AMQP 0-9-1\n`);
  });

  test("export_definitions and import_definitions between two brokers", async () => {
    await ok("add_vhost", "exported");
    await ok("add_user", "carried", "carried-pw");
    await ok("set_permissions", "-p", "exported", "carried", ".*", ".*", ".*");
    const file = join(scratch, "defs.json");
    expect(await ok("export_definitions", file)).toBe(`Exporting definitions in JSON to a file at "${file}" ...\n`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ vhosts: expect.arrayContaining([{ name: "exported" }]) });
    expect(JSON.parse(await ok("export_definitions", "-"))).toMatchObject({ product_name: "Warren" });

    const second = await startAdminBroker();
    try {
      const imported = await runCtl(["--port", String(second.mgmtPort), "import_definitions", file]);
      expect(imported).toEqual({ code: 0, stdout: `Importing definitions in JSON from a file at "${file}" ...\nSuccessfully imported definitions.\n`, stderr: "" });
      expect((await runCtl(["--port", String(second.mgmtPort), "authenticate_user", "carried", "carried-pw"])).code).toBe(0);
      expect((await runCtl(["--port", String(second.mgmtPort), "-q", "list_permissions", "-p", "exported"])).stdout).toContain("carried\t.*\t.*\t.*\n");
    } finally {
      await second.broker.dispose();
    }
    writeFileSync(join(scratch, "bad.json"), "{ not json");
    expect((await suite.w.ctl("import_definitions", join(scratch, "bad.json"))).code).toBe(65);
    expect((await suite.w.ctl("import_definitions", join(scratch, "missing.json"))).code).toBe(65);
  });

  test("credentials and server address from flags or WARREN_MGMT_URL", async () => {
    expect((await suite.w.ctl("--user", "guest", "--password", "wrong", "list_vhosts")).code).toBe(77);
    const viaEnv = await runCtl(["-q", "list_vhosts"], { WARREN_MGMT_URL: `http://guest:guest@127.0.0.1:${suite.w.mgmtPort}` });
    expect(viaEnv).toEqual({ code: 0, stdout: "name\n/\nexported\nother\nshop\n", stderr: "" });
  });

  test("a stopped server: exit 69 with the address", async () => {
    const port = await freePort();
    expect(await runCtl(["--host", "127.0.0.1", "--port", String(port), "list_queues"])).toEqual({
      code: 69,
      stdout: "",
      stderr: `Error: cannot reach Warren at 127.0.0.1:${port}\n`,
    });
  });
});
