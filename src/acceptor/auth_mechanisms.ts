// SASL mechanisms RabbitMQ offers by default: PLAIN ("\0user\0password", RFC 4616) and
// AMQPLAIN (a field table without its length prefix, holding LOGIN and PASSWORD).
import { decodeTable } from "../protocol/table.ts";

export interface Credentials {
  user: string;
  password: string;
}

const decoder = new TextDecoder();

/** The credentials in a start-ok response, or null when the mechanism or the response is malformed. */
export function parseCredentials(mechanism: string, response: Uint8Array): Credentials | null {
  if (mechanism === "PLAIN") {
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) return null;
    return { user: decoder.decode(response.subarray(first + 1, second)), password: decoder.decode(response.subarray(second + 1)) };
  }
  if (mechanism === "AMQPLAIN") {
    try {
      const table = decodeTable(response, 0, response.length);
      const user = table["LOGIN"];
      const password = table["PASSWORD"];
      if (typeof user !== "string" || typeof password !== "string") return null;
      return { user, password };
    } catch {
      return null;
    }
  }
  return null;
}
