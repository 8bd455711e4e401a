// The management HTTP API as the page calls it: HTTP basic auth with the credentials the login
// form stored in sessionStorage (gone when the tab closes), JSON in and out, errors as ApiError
// carrying RabbitMQ's {"error", "reason"} body.
const AUTH_KEY = "warren.auth";

export class ApiError extends Error {
  constructor(status, body) {
    const reason = body && body.reason !== undefined ? (Array.isArray(body.reason) ? body.reason.join(": ") : String(body.reason)) : `HTTP ${status}`;
    super(reason);
    this.status = status;
    this.body = body;
  }
}

export function hasCredentials() {
  return sessionStorage.getItem(AUTH_KEY) !== null;
}

export function storeCredentials(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  sessionStorage.setItem(AUTH_KEY, btoa(String.fromCharCode(...bytes)));
}

export function forgetCredentials() {
  sessionStorage.removeItem(AUTH_KEY);
}

/** Calls the API; resolves with the parsed JSON (null for an empty body), rejects with ApiError. */
export async function api(method, path, body, headers = {}) {
  const init = {
    method,
    headers: { authorization: `Basic ${sessionStorage.getItem(AUTH_KEY) ?? ""}`, "x-requested-with": "XMLHttpRequest", ...headers },
  };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = { reason: text };
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/** A path segment: vhost "/" is "%2F", the default exchange "amq.default". */
export const seg = (s) => encodeURIComponent(s);
export const exchangeSeg = (name) => seg(name === "" ? "amq.default" : name);
