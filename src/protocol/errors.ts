// The one error type of Warren. Domain code throws AmqpError; only the channel and connection
// boundaries turn it into channel.close / connection.close with RabbitMQ's reply code and text.

// methods.ts imports this module too; each uses the other only inside functions, so the cycle is harmless.
import { methodIds, type MethodIds, type MethodName } from "./methods.ts";

/** Reply codes as RabbitMQ 3.x sends them (AMQP 0-9-1 constants). */
export const ReplyCode = {
  replySuccess: 200,
  contentTooLarge: 311,
  noRoute: 312,
  noConsumers: 313,
  connectionForced: 320,
  invalidPath: 402,
  accessRefused: 403,
  notFound: 404,
  resourceLocked: 405,
  preconditionFailed: 406,
  frameError: 501,
  syntaxError: 502,
  commandInvalid: 503,
  channelError: 504,
  unexpectedFrame: 505,
  resourceError: 506,
  notAllowed: 530,
  notImplemented: 540,
  internalError: 541,
} as const;

const replyText: Record<number, string> = {
  311: "CONTENT_TOO_LARGE",
  312: "NO_ROUTE",
  313: "NO_CONSUMERS",
  320: "CONNECTION_FORCED",
  402: "INVALID_PATH",
  403: "ACCESS_REFUSED",
  404: "NOT_FOUND",
  405: "RESOURCE_LOCKED",
  406: "PRECONDITION_FAILED",
  501: "FRAME_ERROR",
  502: "SYNTAX_ERROR",
  503: "COMMAND_INVALID",
  504: "CHANNEL_ERROR",
  505: "UNEXPECTED_FRAME",
  506: "RESOURCE_ERROR",
  530: "NOT_ALLOWED",
  540: "NOT_IMPLEMENTED",
  541: "INTERNAL_ERROR",
};

/** Codes that close the whole connection; the rest close only the channel (spec 1.2, "soft" errors). */
const hardCodes = new Set([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

const NO_IDS: MethodIds = { classId: 0, methodId: 0 };

export class AmqpError extends Error {
  /** Class and method id of the method that caused it, as channel.close / connection.close carry them (0 when none). */
  readonly classId: number;
  readonly methodId: number;

  /**
   * @param code RabbitMQ reply code.
   * @param detail the text after "NAME - ", e.g. "no queue 'x' in vhost '/'".
   * @param method the method that caused it, e.g. "queue.declare"; the ids as read off the wire
   *   when they may name no method (an unknown method, a content header's class); null for none.
   */
  constructor(
    readonly code: number,
    readonly detail: string,
    method: MethodName | MethodIds | null = null,
  ) {
    super(`${replyText[code] ?? "ERROR"} - ${detail}`);
    this.name = "AmqpError";
    const ids = method === null ? NO_IDS : typeof method === "string" ? methodIds(method) : method;
    this.classId = ids.classId;
    this.methodId = ids.methodId;
  }

  /** True when the error closes the connection rather than only the channel. */
  get isConnectionError(): boolean {
    return hardCodes.has(this.code);
  }

  /** The reply-text RabbitMQ sends: "NOT_FOUND - no queue 'x' in vhost '/'", cut to a shortstr's 255 bytes. */
  get replyText(): string {
    let text = this.message;
    while (Buffer.byteLength(text) > 255) text = text.slice(0, -1);
    return text;
  }
}
