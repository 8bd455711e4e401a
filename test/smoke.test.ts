// The raw-socket smoke check from shared/tools against `bun run server`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runNode } from "./support/node_script.ts";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

let broker: BrokerProcess;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.dispose();
});

const smoke = join(import.meta.dir, "..", "..", "shared", "tools", "amqp-smoke.mjs");

test.skipIf(!existsSync(smoke))("passes the raw-socket AMQP smoke check", async () => {
  const { code, stdout } = await runNode(join("..", "shared", "tools", "amqp-smoke.mjs"), ["127.0.0.1", String(broker.port)]);
  expect(stdout).toContain("smoke: ok");
  expect(code).toBe(0);
});

test("stops with exit code 0 on SIGTERM", async () => {
  const other = await (await import("./support/broker_process.ts")).startBroker();
  expect(await other.stop("SIGTERM")).toBe(0);
  await other.dispose();
});
