// The management API over HTTPS: --mgmt-tls-port with --mgmt-tls-cert / --mgmt-tls-key beside the
// plain port or instead of it, fetched with the test CA; a missing certificate or key stops the
// start naming the file, as the AMQP TLS port does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runCtl, startAdminBroker, type AdminBroker } from "./admin_helpers.ts";
import { freePort, startBroker } from "./support/broker_process.ts";
import { makeCertificates, type TestCertificates } from "./support/test_certificates.ts";

let certs: TestCertificates;
let w: AdminBroker;
let httpsPort: number;

beforeAll(async () => {
  certs = makeCertificates("unused");
  httpsPort = await freePort();
  w = await startAdminBroker({ args: ["--mgmt-tls-port", String(httpsPort), "--mgmt-tls-cert", certs.serverCert, "--mgmt-tls-key", certs.serverKey] });
}, 60_000);

afterAll(async () => {
  await w?.broker.dispose();
  rmSync(certs.dir, { recursive: true, force: true });
});

const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };

test("the API answers over HTTPS to a client trusting the CA, beside the plain port", async () => {
  const response = await fetch(`https://127.0.0.1:${httpsPort}/api/whoami`, { headers: auth, tls: { ca: await Bun.file(certs.caCert).text() } });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ name: "guest", tags: ["administrator"] });
  expect((await w.api("GET", "/api/whoami")).status).toBe(200);
  const overview = (await w.api("GET", "/api/overview")).json as { listeners: { protocol: string; port: number }[] };
  expect(overview.listeners).toContainEqual(expect.objectContaining({ protocol: "https", port: httpsPort }));
  expect((await fetch(`https://127.0.0.1:${httpsPort}/metrics`, { tls: { ca: await Bun.file(certs.caCert).text() } })).status).toBe(200);
});

test("a client that does not trust the certificate fails its handshake; plain HTTP on the TLS port gets no API answer", async () => {
  expect(await fetch(`https://127.0.0.1:${httpsPort}/api/whoami`, { headers: auth }).then((r) => `status ${r.status}`, () => "refused")).toBe("refused");
  const plain = await fetch(`http://127.0.0.1:${httpsPort}/api/whoami`, { headers: auth }).then((r) => r.status, () => "failed");
  expect(plain).not.toBe(200);
});

test("HTTPS instead of the plain port", async () => {
  const port = await freePort();
  const b = await startBroker({ args: ["--mgmt-port", "0", "--mgmt-tls-port", String(port), "--mgmt-tls-cert", certs.serverCert, "--mgmt-tls-key", certs.serverKey] });
  try {
    expect(b.log()).toContain(`management API over HTTPS listening on 0.0.0.0:${port}`);
    expect(b.log()).not.toContain("management API listening");
    const response = await fetch(`https://127.0.0.1:${port}/api/overview`, { headers: auth, tls: { ca: await Bun.file(certs.caCert).text() } });
    expect(response.status).toBe(200);
  } finally {
    await b.dispose();
  }
});

test("a missing key or certificate file stops the start, naming it", async () => {
  const missing = join(certs.dir, "no-such.key");
  const port = String(await freePort());
  const start = (cert: string, key: string) =>
    Bun.spawn(["bun", "run", "server", "--port", "0", "--mgmt-port", "0", "--prometheus-port", "0", "--data-dir", join(certs.dir, "data"), "--mgmt-tls-port", port, "--mgmt-tls-cert", cert, "--mgmt-tls-key", key], {
      cwd: join(import.meta.dir, ".."),
      stdout: "ignore",
      stderr: "pipe",
    });
  for (const [cert, key, named] of [[certs.serverCert, missing, `--mgmt-tls-key ${missing}: cannot read the file (ENOENT)`], [missing, certs.serverKey, `--mgmt-tls-cert ${missing}: cannot read the file (ENOENT)`]] as const) {
    const proc = start(cert, key);
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(stderr).toContain(named);
  }
  const usage = Bun.spawnSync(["bun", "run", "server", "--mgmt-tls-port", port], { cwd: join(import.meta.dir, ".."), stderr: "pipe" });
  expect(usage.exitCode).toBe(64);
  expect(usage.stderr.toString()).toContain("--mgmt-tls-port needs --mgmt-tls-cert and --mgmt-tls-key");
});

test("ctl status lists the HTTPS listener", async () => {
  const status = await runCtl(["--port", String(w.mgmtPort), "-q", "status"]);
  expect(status.stdout).toContain(`port: ${httpsPort}, protocol: https, purpose: HTTP API over TLS (HTTPS)\n`);
});
