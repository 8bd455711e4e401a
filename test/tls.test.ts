// AMQP over TLS as a user sets it up: certificates made with openssl, the TLS port beside the
// plain one, client certificates verified, EXTERNAL naming the user by the certificate's CN, and
// clear failures for the wrong kind of client on either port. Also --load-definitions, which
// creates the certificate's user here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { runScenario } from "./clients/amqplib_results.ts";
import { freePort, startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { makeCertificates, type TestCertificates } from "./support/test_certificates.ts";

const CERT_USER = "tls-user";
let certs: TestCertificates;
let broker: BrokerProcess;
let tlsPort: number;

function tlsArgs(port: number, extra: string[] = []): string[] {
  return ["--tls-port", String(port), "--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--tls-ca", certs.caCert, ...extra];
}

beforeAll(async () => {
  certs = makeCertificates(CERT_USER);
  const definitions = join(certs.dir, "definitions.json");
  writeFileSync(definitions, JSON.stringify({
    users: [{ name: CERT_USER, password_hash: "", hashing_algorithm: "rabbit_password_hashing_sha256", tags: [] }],
    vhosts: [{ name: "/" }, { name: "certs" }],
    permissions: [
      { user: CERT_USER, vhost: "/", configure: ".*", write: ".*", read: ".*" },
      { user: "guest", vhost: "certs", configure: ".*", write: ".*", read: ".*" },
    ],
    queues: [{ name: "from-definitions", vhost: "certs", durable: true, auto_delete: false, arguments: {} }],
  }));
  tlsPort = await freePort();
  broker = await startBroker({ args: [...tlsArgs(tlsPort, ["--tls-verify", "peer"]), "--load-definitions", definitions] });
}, 60_000);

afterAll(async () => {
  await broker?.dispose();
  rmSync(certs.dir, { recursive: true, force: true });
});

function tlsClient(user = "guest:guest"): AMQPClient {
  return new AMQPClient(`amqps://${user}@127.0.0.1:${tlsPort}`, { ca: readFileSync(certs.caCert) });
}

test("amqp-client: publish and get over TLS, the server verified against the CA", async () => {
  const conn = await tlsClient().connect();
  const ch = await conn.channel();
  const q = await ch.queue("", { exclusive: true });
  await q.publish("over tls");
  let got = null;
  for (let i = 0; i < 50 && got === null; i++) got = await q.get({ noAck: true });
  expect(got?.bodyToString()).toBe("over tls");
  await conn.close();
});

test("amqplib: PLAIN over TLS, and EXTERNAL logs in as the client certificate's CN", async () => {
  const results = await runScenario("amqplib_tls.mjs", `amqps://guest:guest@127.0.0.1:${tlsPort}/`, 30_000, [certs.caCert, certs.clientCert, certs.clientKey]);
  expect(results.get("plain-over-tls")["body"]).toBe("over tls");
  expect(results.get("external")).toMatchObject({ connected: true, body: "over tls" });
  expect(broker.log()).toContain(`user '${CERT_USER}'`);
}, 40_000);

test("--load-definitions imported the vhost, the user and the queue before the listeners opened", async () => {
  const conn = await new AMQPClient(`amqp://guest:guest@127.0.0.1:${broker.port}/certs`).connect();
  const ch = await conn.channel();
  const ok = await ch.queueDeclare("from-definitions", { passive: true });
  expect(ok.name).toBe("from-definitions");
  await conn.close();
  expect(broker.log()).toContain("imported definitions from");
});

test("a plain-text client on the TLS port fails, is logged, and the broker keeps serving others", async () => {
  const plain = await new AMQPClient(`amqp://guest:guest@127.0.0.1:${tlsPort}`).connect().catch((e: Error) => e);
  expect(plain).toBeInstanceOf(Error);
  for (let i = 0; i < 50 && !broker.log().includes("TLS handshake failed"); i++) await Bun.sleep(20);
  expect(broker.log()).toContain("TLS handshake failed");
  const conn = await tlsClient().connect();
  await conn.close();
});

test("a TLS client on the plain-text port fails and the log says what it was", async () => {
  const tls = await new AMQPClient(`amqps://guest:guest@127.0.0.1:${broker.port}`, { ca: readFileSync(certs.caCert) }).connect().catch((e: Error) => e);
  expect(tls).toBeInstanceOf(Error);
  for (let i = 0; i < 50 && !broker.log().includes("a TLS client on the plain-text port"); i++) await Bun.sleep(20);
  expect(broker.log()).toContain("a TLS client on the plain-text port");
});

test("with --tls-fail-if-no-peer-cert a certificate from an untrusted CA, or none, is refused", async () => {
  const port = await freePort();
  const strict = await startBroker({ args: tlsArgs(port, ["--tls-verify", "peer", "--tls-fail-if-no-peer-cert"]) });
  try {
    const ca = readFileSync(certs.caCert);
    const url = `amqps://guest:guest@127.0.0.1:${port}`;
    const none = await new AMQPClient(url, { ca }).connect().catch((e: Error) => e);
    expect(none).toBeInstanceOf(Error);
    const stranger = await new AMQPClient(url, { ca, cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) }).connect().catch((e: Error) => e);
    expect(stranger).toBeInstanceOf(Error);
    const trusted = await new AMQPClient(url, { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }).connect();
    await trusted.close();
  } finally {
    await strict.dispose();
  }
}, 30_000);

test("a missing key file or definitions file stops the start and names the file", async () => {
  const missingKey = join(certs.dir, "no-such.key");
  const port = await freePort();
  const noKey = await startBroker({ args: ["--tls-port", String(port), "--tls-cert", certs.serverCert, "--tls-key", missingKey] }).catch((e: Error) => e);
  expect(noKey).toBeInstanceOf(Error);
  expect((noKey as Error).message).toContain(missingKey);
  const badDefs = join(certs.dir, "bad.json");
  writeFileSync(badDefs, "{ not json");
  const bad = await startBroker({ args: ["--load-definitions", badDefs] }).catch((e: Error) => e);
  expect(bad).toBeInstanceOf(Error);
  expect((bad as Error).message).toContain(`--load-definitions ${badDefs}`);
}, 30_000);
