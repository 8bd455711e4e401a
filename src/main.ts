// `bun run server`: parse flags, start the shard pool (recovering journals), restore definitions,
// listen for AMQP, serve the management API. SIGINT/SIGTERM close every client with 320
// CONNECTION_FORCED and exit 0.
import { mkdirSync } from "node:fs";
import { AmqpServer } from "./acceptor/server.ts";
import { AdminContext } from "./admin/admin_context.ts";
import { startManagement, type ManagementServer } from "./admin/http_api.ts";
import { Broker } from "./broker/broker.ts";
import { parseSize, parseWatermark } from "./broker/resource_alarms.ts";
import { parseArgs } from "./config.ts";
import { loadKeyPair, loadTlsSettings, type KeyPair, type TlsSettings } from "./acceptor/tls_settings.ts";
import { startPrometheus } from "./admin/prometheus_server.ts";
import { readFileSync } from "node:fs";
import type { Definitions } from "./broker/definitions.ts";
import { log } from "./log.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(64);
  }
  log.setLevel(config.logLevel);
  let tls: TlsSettings | null = null;
  let mgmtTls: KeyPair | null = null;
  let definitions: Definitions | null = null;
  try {
    if (config.tlsPort !== 0) tls = loadTlsSettings(config);
    if (config.mgmtTlsPort !== 0) mgmtTls = loadKeyPair({ flag: "--mgmt-tls-cert", file: config.mgmtTlsCert }, { flag: "--mgmt-tls-key", file: config.mgmtTlsKey });
    if (config.loadDefinitions !== "") definitions = readDefinitions(config.loadDefinitions);
  } catch (error) {
    log.error(`cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  mkdirSync(config.dataDir, { recursive: true });
  const broker = new Broker();
  try {
    await broker.start({
      workers: config.workers,
      ring_bytes: config.ring_bytes,
      dataDir: config.dataDir,
      fsync: config.fsync,
      skipDamaged: config.skipDamaged,
      indexSnapshotRecords: config.indexSnapshotRecords,
      queueWindowMessages: config.queueWindowMessages,
      queueWindow_bytes: config.queueWindow_bytes,
      defaultUser: config.defaultUser,
      defaultPass: config.defaultPass,
    });
  } catch (error) {
    log.error(`cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  if (definitions !== null) {
    try {
      broker.importDefinitions(definitions);
    } catch (error) {
      log.error(`cannot start: --load-definitions ${config.loadDefinitions}: ${(error as Error).message}`);
      process.exit(1);
    }
    log.info(`imported definitions from ${config.loadDefinitions}`);
  }
  broker.consumerTimeout_ms = config.consumerTimeout_ms;
  broker.startAlarms({ memory: parseWatermark(config.vmMemoryHighWatermark), diskFreeLimit_bytes: parseSize(config.diskFreeLimit)! }, config.dataDir);
  const server = new AmqpServer(broker, {
    frameMax_bytes: config.frameMax_bytes,
    channelMax: config.channelMax,
    heartbeat_s: config.heartbeat_s,
    productName: config.productName,
  });
  const admin = new AdminContext(broker, server);
  let port: number;
  try {
    port = server.listen(config.host, config.port);
    admin.listeners.push({ protocol: "amqp", host: config.host, port });
    if (tls !== null) {
      const tlsPort = server.listen(config.host, config.tlsPort, tls);
      admin.listeners.push({ protocol: "amqp/ssl", host: config.host, port: tlsPort });
      log.info(`AMQP over TLS listening on ${config.host}:${tlsPort}${tls.verifyPeer ? ", verifying client certificates" : ""}`);
    }
  } catch (error) {
    log.error(`cannot listen: ${(error as Error).message}`);
    process.exit(1);
  }
  // The management API in plain HTTP and/or HTTPS, and the Prometheus port: each is off at 0.
  const http: ManagementServer[] = [];
  const serve = (what: string, host: string, port: number, start: () => ManagementServer): void => {
    if (port === 0) return;
    try {
      const started = start();
      http.push(started);
      log.info(`${what} listening on ${host}:${started.port}`);
    } catch (error) {
      log.error(`cannot start the ${what} on ${host}:${port}: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  serve("management API", config.mgmtHost, config.mgmtPort, () => startManagement(admin, config.mgmtHost, config.mgmtPort));
  serve("management API over HTTPS", config.mgmtHost, config.mgmtTlsPort, () => startManagement(admin, config.mgmtHost, config.mgmtTlsPort, mgmtTls));
  serve("Prometheus metrics", config.prometheusHost, config.prometheusPort, () => startPrometheus(admin, config.prometheusHost, config.prometheusPort));
  log.info(`Warren listening on ${config.host}:${port} (AMQP 0-9-1), ${config.workers} shard workers, data dir ${config.dataDir}, fsync ${config.fsync}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: closing connections and stopping`);
    for (const h of http) h.stop();
    server.shutdown();
    broker.scheduleFlush();
    // Give the close frames a moment to leave, let the shards finish their journal writes, exit.
    setTimeout(async () => {
      await broker.flushJournals();
      broker.stop();
      process.exit(0);
    }, 200);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** RabbitMQ's definitions JSON; a file that cannot be read or parsed stops the start. */
function readDefinitions(file: string): Definitions {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`--load-definitions ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Definitions;
  } catch (error) {
    throw new Error(`--load-definitions ${file}: not a definitions file (${(error as Error).message})`);
  }
}

await main();
