// The AMQP listeners on the acceptor thread: Bun.listen in plain text and (optionally) TLS, one
// Connection per socket, one timer for every connection's heartbeats, and the clean shutdown
// (connection.close 320 to every client).
import type { Socket, TCPSocketListener } from "bun";
import type { Broker } from "../broker/broker.ts";
import { log } from "../log.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { Connection, type ConnectionLimits } from "./connection.ts";
import type { TlsSettings } from "./tls_settings.ts";

const HEARTBEAT_TICK_MS = 1000;

export class AmqpServer {
  readonly connections = new Set<Connection>();
  /** RabbitMQ's connection names, "client:port -> server:port", fixed when the socket is accepted. */
  private readonly names = new WeakMap<Connection, string>();
  private readonly listeners: TCPSocketListener<Connection>[] = [];
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly limits: ConnectionLimits,
  ) {
    // The connection and channel limits count this server's connections.
    broker.connections = this.connections;
  }

  /** Listens on host:port (TLS with `tls`); returns the port (the one chosen when port is 0). */
  listen(host: string, port: number, tls: TlsSettings | null = null): number {
    const server = this;
    const listener = Bun.listen<Connection>({
      hostname: host,
      port,
      ...(tls === null ? {} : {
        tls: {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          requestCert: tls.verifyPeer,
          rejectUnauthorized: tls.verifyPeer && tls.failIfNoPeerCert,
        },
      }),
      socket: {
        open(socket: Socket<Connection>) {
          socket.setNoDelay(true);
          const peer = `${socket.remoteAddress}:${(socket as unknown as { remotePort?: number }).remotePort ?? 0}`;
          const connection = new Connection(server.broker, socket, peer, server.limits,
            (user, password, from) => server.broker.authenticate(user, password, from),
            (c) => server.connections.delete(c));
          socket.data = connection;
          connection.tls = tls !== null;
          server.connections.add(connection);
          server.names.set(connection, `${peer} -> ${socket.localAddress}:${socket.localPort}`);
        },
        data(socket, chunk) {
          socket.data.onData(chunk);
        },
        handshake(socket, success, authorizationError) {
          const connection = socket.data;
          if (!success) {
            log.warn(`TLS handshake failed from ${connection?.peer ?? "?"}${authorizationError === null ? "" : `: ${authorizationError.message}`}`);
            return;
          }
          // EXTERNAL: the verified client certificate's subject CN names the user (rabbitmq_auth_mechanism_ssl).
          if (tls !== null && tls.verifyPeer && socket.authorized && connection !== undefined) {
            const cn = socket.getPeerCertificate()?.subject?.CN;
            connection.certificateUser = typeof cn === "string" && cn !== "" ? cn : null;
          }
        },
        drain(socket) {
          socket.data.onDrain();
        },
        close(socket) {
          socket.data?.onClosed();
        },
        error(socket, error) {
          log.warn(`socket error from ${socket.data?.peer ?? "?"}: ${error.message}`);
        },
      },
    });
    this.listeners.push(listener);
    this.ticker ??= setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.tick(now);
    }, HEARTBEAT_TICK_MS);
    return listener.port;
  }

  /** connection.close 320 to every client, then stop listening. */
  shutdown(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const listener of this.listeners) listener.stop(false);
    const error = new AmqpError(ReplyCode.connectionForced, "broker forced connection closure with reason 'shutdown'");
    for (const c of this.connections) c.closeWith(error);
  }

  /** The name the management API and rabbitmqctl show for a connection. */
  connectionName(connection: Connection): string {
    return this.names.get(connection) ?? connection.peer;
  }

  /** Connections of a vhost (for deletion of the vhost, and admin listings). */
  *inVhost(vhost: string): IterableIterator<Connection> {
    for (const c of this.connections) if (c.isOpen && c.vhost.name === vhost) yield c;
  }
}
