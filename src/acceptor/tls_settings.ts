// TLS settings, read once at start-up, for the AMQP listener and (the key pair alone) the
// management API's HTTPS port: a certificate or key that cannot be read stops the broker with the
// flag and the file's name instead of a listener that fails every handshake.
import { readFileSync } from "node:fs";

export interface TlsSettings extends KeyPair {
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

export interface KeyPair {
  cert: string;
  key: string;
}

/** A server's certificate chain and private key; each flag names its file in the error. */
export function loadKeyPair(cert: { flag: string; file: string }, key: { flag: string; file: string }): KeyPair {
  return { cert: readPem(cert.flag, cert.file), key: readPem(key.flag, key.file) };
}

export function loadTlsSettings(c: { tlsCert: string; tlsKey: string; tlsCa: string; tlsVerify: "none" | "peer"; tlsFailIfNoPeerCert: boolean }): TlsSettings {
  return {
    ...loadKeyPair({ flag: "--tls-cert", file: c.tlsCert }, { flag: "--tls-key", file: c.tlsKey }),
    ca: c.tlsCa === "" ? undefined : readPem("--tls-ca", c.tlsCa),
    verifyPeer: c.tlsVerify === "peer",
    failIfNoPeerCert: c.tlsFailIfNoPeerCert,
  };
}
