// `bun run ctl`'s connection to a running Warren: its management HTTP API with basic auth. A
// server that does not answer is rabbitmqctl's "unavailable" (69); refused credentials are 77;
// other API errors carry the API's reason. Callers list the statuses they handle themselves.
import { CtlError, ExitCode, failure } from "./errors.ts";

export interface ClientOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  timeout_s: number;
}

export interface HttpResult {
  status: number;
  json: unknown;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Error statuses returned to the caller instead of thrown. */
  allow?: readonly number[];
  /** Other credentials than the client's (authenticate_user). */
  credentials?: { user: string; password: string };
}

/** A path segment as the API expects it: "/" is "%2F". */
export const seg = encodeURIComponent;

export class MgmtClient {
  constructor(readonly options: ClientOptions) {}

  get where(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  async request(method: "GET" | "PUT" | "POST" | "DELETE", path: string, opts: RequestOptions = {}): Promise<HttpResult> {
    const { user, password } = opts.credentials ?? this.options;
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
      ...opts.headers,
    };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`http://${this.where}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        signal: AbortSignal.timeout(this.options.timeout_s * 1000),
      });
    } catch (error) {
      if ((error as Error).name === "TimeoutError") {
        throw new CtlError(ExitCode.tempFail, `Error: Warren at ${this.where} did not answer within ${this.options.timeout_s} seconds`);
      }
      throw new CtlError(ExitCode.unavailable, `Error: cannot reach Warren at ${this.where}`);
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = text;
    }
    const result = { status: response.status, json };
    if (response.ok || opts.allow?.includes(response.status)) return result;
    throw this.apiError(result, user);
  }

  async get(path: string): Promise<unknown> {
    return (await this.request("GET", path)).json;
  }

  private apiError(result: HttpResult, user: string): CtlError {
    const reason = reasonOf(result);
    if (result.status === 401) return failure(ExitCode.noPerm, `the management API at ${this.where} refused user '${user}': ${reason}`);
    if (result.status === 403) return failure(ExitCode.noPerm, reason);
    return failure(ExitCode.software, reason);
  }
}

/** The "reason" of an API error body, or the HTTP status. */
export function reasonOf(result: HttpResult): string {
  const body = result.json as { reason?: unknown } | null;
  return typeof body?.reason === "string" ? body.reason : `HTTP ${result.status}`;
}
