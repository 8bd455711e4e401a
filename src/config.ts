// Command-line flags (and an optional JSON config file with the same keys) → BrokerConfig.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSize, parseWatermark } from "./broker/resource_alarms.ts";
import { RING_MAX_CAPACITY_BYTES } from "./rings/ring_layout.ts";

export interface BrokerConfig {
  host: string;
  port: number;
  dataDir: string;
  workers: number;
  ring_bytes: number;
  fsync: "always" | "never";
  skipDamaged: boolean;
  /** Journal records between index snapshots while running (0: only at a clean shutdown). */
  indexSnapshotRecords: number;
  heartbeat_s: number;
  frameMax_bytes: number;
  channelMax: number;
  defaultUser: string;
  defaultPass: string;
  mgmtHost: string;
  mgmtPort: number;
  /** The management API over HTTPS on this port too (0 = none); needs mgmtTlsCert and mgmtTlsKey. */
  mgmtTlsPort: number;
  mgmtTlsCert: string;
  mgmtTlsKey: string;
  /** rabbitmq_prometheus's port: /metrics and /metrics/per-object without authentication (0 = off). */
  prometheusHost: string;
  prometheusPort: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** A fraction of the machine's memory ("0.4") or a size ("2GiB"): resident memory past it blocks publishers. */
  vmMemoryHighWatermark: string;
  /** Free disk space below this size ("50MB") blocks publishers. */
  diskFreeLimit: string;
  /** AMQP over TLS on this port (0 = none); needs tlsCert and tlsKey. */
  tlsPort: number;
  tlsCert: string;
  tlsKey: string;
  /** CA bundle that client certificates are verified against. */
  tlsCa: string;
  /** "peer": ask clients for a certificate and verify it (then EXTERNAL is offered). */
  tlsVerify: "none" | "peer";
  /** With tlsVerify peer: refuse clients without a valid certificate. */
  tlsFailIfNoPeerCert: boolean;
  /** A definitions file (RabbitMQ's JSON) imported at every start, before the listeners open. */
  loadDefinitions: string;
  /** The product name connection.start advertises (some applications, e.g. Celery's kombu, check it). */
  productName: string;
  /** How long a delivery may stay unacknowledged before its channel is closed (RabbitMQ 3.12's consumer_timeout; 0 = forever). */
  consumerTimeout_ms: number;
  /** Ready messages a queue keeps in memory, and their bytes; the rest of a longer queue is on disk. */
  queueWindowMessages: number;
  queueWindow_bytes: number;
}

/** A window smaller than this would page a queue's every message, one read per message. */
const MIN_QUEUE_WINDOW_BYTES = 4096;
/** A ring holds records up to a quarter of it; below this, 16 KiB bodies would be fragmented. */
const MIN_RING_BYTES = 64 * 1024;

export const defaults: BrokerConfig = {
  host: "0.0.0.0",
  port: 5672,
  dataDir: "./data",
  // Two shards on a 2-core machine: the acceptor and the shards share the cores (see README).
  workers: 2,
  // 2 MiB: twice the 1 MiB a publisher may put in front of a shard (publish_flow.ts). A ring's
  // pages are all touched once it has cycled, so a bigger one is resident memory, not speed.
  ring_bytes: 2 * 1024 * 1024,
  fsync: "always",
  skipDamaged: false,
  indexSnapshotRecords: 5_000_000,
  heartbeat_s: 60,
  frameMax_bytes: 131072,
  channelMax: 2047,
  defaultUser: "guest",
  defaultPass: "guest",
  mgmtHost: "0.0.0.0",
  mgmtPort: 15672,
  mgmtTlsPort: 0,
  mgmtTlsCert: "",
  mgmtTlsKey: "",
  prometheusHost: "0.0.0.0",
  prometheusPort: 15692,
  logLevel: "info",
  vmMemoryHighWatermark: "0.4",
  diskFreeLimit: "50MB",
  tlsPort: 0,
  tlsCert: "",
  tlsKey: "",
  tlsCa: "",
  tlsVerify: "none",
  tlsFailIfNoPeerCert: false,
  loadDefinitions: "",
  productName: "Warren",
  consumerTimeout_ms: 1_800_000,
  queueWindowMessages: 4096,
  queueWindow_bytes: 4 * 1024 * 1024,
};

const flags: Record<string, keyof BrokerConfig> = {
  "--host": "host",
  "--port": "port",
  "--data-dir": "dataDir",
  "--workers": "workers",
  "--ring-bytes": "ring_bytes",
  "--fsync": "fsync",
  "--heartbeat": "heartbeat_s",
  "--frame-max": "frameMax_bytes",
  "--channel-max": "channelMax",
  "--default-user": "defaultUser",
  "--default-pass": "defaultPass",
  "--mgmt-host": "mgmtHost",
  "--mgmt-port": "mgmtPort",
  "--mgmt-tls-port": "mgmtTlsPort",
  "--mgmt-tls-cert": "mgmtTlsCert",
  "--mgmt-tls-key": "mgmtTlsKey",
  "--prometheus-host": "prometheusHost",
  "--prometheus-port": "prometheusPort",
  "--log-level": "logLevel",
  "--vm-memory-high-watermark": "vmMemoryHighWatermark",
  "--disk-free-limit": "diskFreeLimit",
  "--tls-port": "tlsPort",
  "--tls-cert": "tlsCert",
  "--tls-key": "tlsKey",
  "--tls-ca": "tlsCa",
  "--tls-verify": "tlsVerify",
  "--load-definitions": "loadDefinitions",
  "--product-name": "productName",
  "--consumer-timeout": "consumerTimeout_ms",
  "--queue-window-messages": "queueWindowMessages",
  "--queue-window-bytes": "queueWindow_bytes",
  "--index-snapshot-records": "indexSnapshotRecords",
};

export const usage = `usage: bun run server [options]
  --host H              listen address (default 0.0.0.0)
  --port N              AMQP port (default 5672)
  --data-dir DIR        journals and definitions (default ./data)
  --workers N           queue shard threads (default 2)
  --ring-bytes N        each ring between the acceptor and a shard, per direction: a power of
                        two from 65536 (default 2097152)
  --fsync always|never  sync the journal before confirming persistent messages (default always)
  --skip-damaged        start even if journal records are damaged, skipping them (logged)
  --heartbeat S         heartbeat interval offered to clients (default 60, 0 = off)
  --frame-max N         largest frame offered (default 131072)
  --channel-max N       most channels per connection (default 2047)
  --default-user U      first user of a fresh data dir (default guest)
  --default-pass P      its password (default guest)
  --mgmt-host H         management HTTP API address (default 0.0.0.0)
  --mgmt-port N         management HTTP API port (default 15672, 0 = off)
  --mgmt-tls-port N     management HTTP API over HTTPS on this port too (default off; 0 = off)
  --mgmt-tls-cert FILE  its certificate chain (PEM)
  --mgmt-tls-key FILE   its private key (PEM)
  --prometheus-host H   Prometheus metrics address (default 0.0.0.0)
  --prometheus-port N   Prometheus /metrics and /metrics/per-object (default 15692, 0 = off)
  --log-level L         debug, info, warn or error (default info)
  --vm-memory-high-watermark W  block publishers while resident memory is above W: a fraction
                        of the machine's memory or a size such as 2GiB (default 0.4)
  --disk-free-limit S   block publishers while the data dir's free space is below S (default 50MB)
  --tls-port N          AMQP over TLS on this port too (default off; 5671 by convention)
  --tls-cert FILE       the server's certificate chain (PEM)
  --tls-key FILE        its private key (PEM)
  --tls-ca FILE         CA certificates that client certificates are verified against (PEM)
  --tls-verify none|peer  ask clients for a certificate and verify it (default none)
  --tls-fail-if-no-peer-cert  with --tls-verify peer, refuse clients without a valid certificate
  --load-definitions FILE  import this definitions file (RabbitMQ's JSON) at every start
  --product-name NAME   the product connection.start advertises (default Warren)
  --consumer-timeout MS close a channel whose delivery stays unacknowledged this long (default 1800000, 0 = never)
  --queue-window-messages N  ready messages a queue keeps in memory; the rest of a longer queue
                        is paged to disk (default 4096)
  --queue-window-bytes N  at most this many bytes of them (default 4194304)
  --index-snapshot-records N  journal records between index snapshots: a start-up after a crash
                        scans at most about twice this many (default 5000000, 0 = only at shutdown)
  --config FILE         JSON file with any of the keys above (camelCase names as in BrokerConfig)`;

export function parseArgs(argv: readonly string[]): BrokerConfig {
  const config: BrokerConfig = { ...defaults };
  const set = (key: keyof BrokerConfig, raw: string): void => {
    const current = defaults[key];
    if (typeof current === "boolean") {
      (config as unknown as Record<string, unknown>)[key] = raw === "true";
    } else if (typeof current === "number") {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${key} must be a non-negative integer, got '${raw}'`);
      (config as unknown as Record<string, unknown>)[key] = n;
    } else {
      (config as unknown as Record<string, unknown>)[key] = raw;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") throw new Error(usage);
    if (arg === "--skip-damaged") {
      config.skipDamaged = true;
      continue;
    }
    if (arg === "--tls-fail-if-no-peer-cert") {
      config.tlsFailIfNoPeerCert = true;
      continue;
    }
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value\n${usage}`);
    if (name === "--config") {
      const file = JSON.parse(readFileSync(value, "utf8")) as Record<string, unknown>;
      for (const [key, v] of Object.entries(file)) {
        if (!(key in defaults)) throw new Error(`unknown key '${key}' in ${value}`);
        set(key as keyof BrokerConfig, String(v));
      }
      continue;
    }
    const key = flags[name];
    if (key === undefined) throw new Error(`unknown option ${name}\n${usage}`);
    set(key, value);
  }
  if (config.fsync !== "always" && config.fsync !== "never") throw new Error("--fsync must be always or never");
  if (config.workers < 1 || config.workers > 64) throw new Error("--workers must be 1..64");
  const ring = config.ring_bytes;
  if (!(Number.isSafeInteger(ring) && ring >= MIN_RING_BYTES && ring <= RING_MAX_CAPACITY_BYTES && (ring & (ring - 1)) === 0)) {
    throw new Error(`--ring-bytes must be a power of two from ${MIN_RING_BYTES} to ${RING_MAX_CAPACITY_BYTES}`);
  }
  if (!(Number.isSafeInteger(config.indexSnapshotRecords) && config.indexSnapshotRecords >= 0)) throw new Error("--index-snapshot-records must be a count (0: only at shutdown)");
  if (!(config.queueWindowMessages >= 1)) throw new Error("--queue-window-messages must be at least 1");
  if (!(config.queueWindow_bytes >= MIN_QUEUE_WINDOW_BYTES)) throw new Error(`--queue-window-bytes must be at least ${MIN_QUEUE_WINDOW_BYTES}`);
  if (config.frameMax_bytes < 4096) throw new Error("--frame-max must be at least 4096");
  if (config.channelMax < 1 || config.channelMax > 65535) throw new Error("--channel-max must be 1..65535");
  parseWatermark(config.vmMemoryHighWatermark);
  if (config.tlsVerify !== "none" && config.tlsVerify !== "peer") throw new Error("--tls-verify must be none or peer");
  if (config.tlsPort !== 0 && (config.tlsCert === "" || config.tlsKey === "")) throw new Error("--tls-port needs --tls-cert and --tls-key");
  if (config.mgmtTlsPort !== 0 && (config.mgmtTlsCert === "" || config.mgmtTlsKey === "")) throw new Error("--mgmt-tls-port needs --mgmt-tls-cert and --mgmt-tls-key");
  if (parseSize(config.diskFreeLimit) === null) throw new Error(`--disk-free-limit must be a size such as 50MB or 1GiB, got '${config.diskFreeLimit}'`);
  config.dataDir = resolve(config.dataDir);
  return config;
}
