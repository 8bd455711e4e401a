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
  mkdirSync(config.dataDir, { recursive: true });
  const broker = new Broker();
  try {
    await broker.start({
      workers: config.workers,
      ring_bytes: config.ring_bytes,
      dataDir: config.dataDir,
      fsync: config.fsync,
      skipDamaged: config.skipDamaged,
      defaultUser: config.defaultUser,
      defaultPass: config.defaultPass,
    });
  } catch (error) {
    log.error(`cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  broker.startAlarms({ memory: parseWatermark(config.vmMemoryHighWatermark), diskFreeLimit_bytes: parseSize(config.diskFreeLimit)! }, config.dataDir);
  const server = new AmqpServer(broker, {
    frameMax_bytes: config.frameMax_bytes,
    channelMax: config.channelMax,
    heartbeat_s: config.heartbeat_s,
  });
  const port = server.listen(config.host, config.port);
  const admin = new AdminContext(broker, server);
  admin.listeners.push({ protocol: "amqp", host: config.host, port });
  let management: ManagementServer | null = null;
  if (config.mgmtPort !== 0) {
    try {
      management = startManagement(admin, config.mgmtHost, config.mgmtPort);
    } catch (error) {
      log.error(`cannot start the management API on ${config.mgmtHost}:${config.mgmtPort}: ${(error as Error).message}`);
      process.exit(1);
    }
    log.info(`management API listening on ${config.mgmtHost}:${management.port}`);
  }
  log.info(`Warren listening on ${config.host}:${port} (AMQP 0-9-1), ${config.workers} shard workers, data dir ${config.dataDir}, fsync ${config.fsync}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: closing connections and stopping`);
    management?.stop();
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

await main();
