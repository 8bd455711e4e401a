// The AMQP listener's TLS settings, read once at start-up: a certificate or key that cannot be
// read stops the broker with the file's name instead of a listener that fails every handshake.
import { readFileSync } from "node:fs";

export interface TlsSettings {
  cert: string;
  key: string;
  ca: string | undefined;
  /** Ask clients for a certificate and verify it against `ca`. */
  verifyPeer: boolean;
  /** With verifyPeer: a client without a valid certificate fails the handshake. */
  failIfNoPeerCert: boolean;
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${flag} ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export function loadTlsSettings(c: { tlsCert: string; tlsKey: string; tlsCa: string; tlsVerify: "none" | "peer"; tlsFailIfNoPeerCert: boolean }): TlsSettings {
  return {
    cert: readPem("--tls-cert", c.tlsCert),
    key: readPem("--tls-key", c.tlsKey),
    ca: c.tlsCa === "" ? undefined : readPem("--tls-ca", c.tlsCa),
    verifyPeer: c.tlsVerify === "peer",
    failIfNoPeerCert: c.tlsFailIfNoPeerCert,
  };
}
