// Shared by the admin_*.test.ts files: a Warren process with its management API on a known
// port, a small HTTP client for the API, `bun run ctl` as a user runs it, and AMQP helpers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { AMQPConnection } from "./support/amqp_client_helpers.ts";
import { freePort, startBroker, type BrokerProcess } from "./support/broker_process.ts";

const projectRoot = join(import.meta.dir, "..");

export interface AdminBroker {
  broker: BrokerProcess;
  mgmtPort: number;
  /** amqp://user:password@127.0.0.1:port/vhost */
  amqpUrl(user: string, password: string, vhost?: string): string;
  api(method: string, path: string, options?: ApiOptions): Promise<ApiResult>;
  ctl(...args: string[]): Promise<CtlResult>;
}

export interface ApiOptions {
  body?: unknown;
  /** Sent as is (for malformed bodies). */
  rawBody?: string;
  user?: string;
  password?: string;
  /** No Authorization header at all. */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export interface ApiResult {
  status: number;
  json: unknown;
  text: string;
  headers: Headers;
}

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * For files that start several brokers: returns a `track` that hands back the started broker and
 * disposes of every one it saw after the file's tests.
 */
export function brokersDisposedAfterAll(): (starting: Promise<AdminBroker>) => Promise<AdminBroker> {
  const started: AdminBroker[] = [];
  afterAll(async () => {
    for (const b of started) await b.broker.dispose();
  });
  return async (starting) => {
    const b = await starting;
    started.push(b);
    return b;
  };
}

/** `args` are more server flags. */
export async function startAdminBroker(options: { dataDir?: string; args?: string[] } = {}): Promise<AdminBroker> {
  const mgmtPort = await freePort();
  const broker = await startBroker({ ...options, args: ["--mgmt-port", String(mgmtPort), "--mgmt-host", "127.0.0.1", ...(options.args ?? [])] });
  return {
    broker,
    mgmtPort,
    amqpUrl: (user, password, vhost = "/") =>
      `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${broker.port}/${encodeURIComponent(vhost)}`,
    api: (method, path, opts = {}) => api(mgmtPort, method, path, opts),
    ctl: (...args) => runCtl(["--port", String(mgmtPort), ...args]),
  };
}

export async function api(port: number, method: string, path: string, opts: ApiOptions = {}): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.anonymous !== true) {
    headers["authorization"] = `Basic ${Buffer.from(`${opts.user ?? "guest"}:${opts.password ?? "guest"}`).toString("base64")}`;
  }
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** `bun run ctl ...` from the project root, as a user would run it. */
export async function runCtl(args: string[], env: Record<string, string> = {}): Promise<CtlResult> {
  const proc = Bun.spawn(["bun", "run", "--silent", "ctl", ...args], {
    cwd: projectRoot,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, WARREN_MGMT_URL: "", ...env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Resolves when the connection is closed (by the server), with the close's message. */
export function closedBy(conn: AMQPConnection, timeout_ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (conn.closed) return resolve("already closed");
    const timer = setTimeout(() => reject(new Error("connection was not closed")), timeout_ms);
    const previous = conn.onerror;
    conn.onerror = (error) => {
      clearTimeout(timer);
      previous(error);
      resolve(error.message);
    };
  });
}

export async function connect(url: string): Promise<AMQPConnection> {
  return await new AMQPClient(url).connect();
}

/**
 * The set-up of a ctl test file: a broker started before its tests and disposed after them, the
 * client connections it opened (closed after), a scratch directory, and `ok`, which runs a ctl
 * verb that must succeed and returns its stdout.
 */
export function ctlTestFile(scratchPrefix: string): { readonly w: AdminBroker; open: AMQPConnection[]; scratch: string; ok(...args: string[]): Promise<string> } {
  let broker: AdminBroker | undefined;
  const open: AMQPConnection[] = [];
  const scratch = mkdtempSync(join(tmpdir(), scratchPrefix));
  beforeAll(async () => {
    broker = await startAdminBroker();
  });
  afterAll(async () => {
    for (const c of open) if (!c.closed) await c.close().catch(() => {});
    await broker?.broker.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });
  return {
    get w(): AdminBroker {
      if (broker === undefined) throw new Error("the broker starts in beforeAll");
      return broker;
    },
    open,
    scratch,
    async ok(...args: string[]): Promise<string> {
      const r = await broker!.ctl(...args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: "" });
      return r.stdout;
    },
  };
}
