// The management API's errors, with RabbitMQ's JSON bodies: {"error": ..., "reason": ...}.
// Handlers throw ApiError; the router turns it into the response.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    /** A text, or a list where RabbitMQ answers with an Erlang tuple (["not_base64", "!!"], ["no_such_user", "u"]). */
    readonly reason: string | readonly string[],
  ) {
    super(`${status} ${error}: ${String(reason)}`);
  }
}

/** Wrong or missing credentials (RabbitMQ spells this one "not_authorized"). */
export function loginFailed(): ApiError {
  return new ApiError(401, "not_authorized", "Login failed");
}

/**
 * Authenticated, but the user's tags or permissions do not allow the request. RabbitMQ 3.x answers
 * these with 401 too (its code carries "consider changing to 403 in 4.0"); Warren uses 403 so a
 * client can tell a wrong password from a missing tag.
 */
export function notAuthorised(reason: string): ApiError {
  return new ApiError(403, "not_authorised", reason);
}

export function notFound(): ApiError {
  return new ApiError(404, "Object Not Found", "Not Found");
}

export function badRequest(reason: string | readonly string[]): ApiError {
  return new ApiError(400, "bad_request", reason);
}

/** A redeclare that differs from the existing queue or exchange, in RabbitMQ's words. */
export function inequivalentArg(arg: string, what: string, received: unknown, current: unknown): ApiError {
  return badRequest(`inequivalent arg '${arg}' for ${what}: received '${String(received)}' but current is '${String(current)}'`);
}
