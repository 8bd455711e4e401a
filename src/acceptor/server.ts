// The AMQP listener on the acceptor thread: Bun.listen, one Connection per socket, one timer for
// every connection's heartbeats, and the clean shutdown (connection.close 320 to every client).
import type { Socket, TCPSocketListener } from "bun";
import type { Broker } from "../broker/broker.ts";
import { log } from "../log.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { Connection, type ConnectionLimits } from "./connection.ts";

const HEARTBEAT_TICK_MS = 1000;

export class AmqpServer {
  readonly connections = new Set<Connection>();
  /** RabbitMQ's connection names, "client:port -> server:port", fixed when the socket is accepted. */
  private readonly names = new WeakMap<Connection, string>();
  private listener: TCPSocketListener<Connection> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly limits: ConnectionLimits,
  ) {}

  listen(host: string, port: number): number {
    const server = this;
    this.listener = Bun.listen<Connection>({
      hostname: host,
      port,
      socket: {
        open(socket: Socket<Connection>) {
          socket.setNoDelay(true);
          const peer = `${socket.remoteAddress}:${(socket as unknown as { remotePort?: number }).remotePort ?? 0}`;
          const connection = new Connection(server.broker, socket, peer, server.limits,
            (user, password, from) => server.broker.authenticate(user, password, from),
            (c) => server.connections.delete(c));
          socket.data = connection;
          server.connections.add(connection);
          server.names.set(connection, `${peer} -> ${socket.localAddress}:${socket.localPort}`);
        },
        data(socket, chunk) {
          socket.data.onData(chunk);
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
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.tick(now);
    }, HEARTBEAT_TICK_MS);
    return this.listener.port;
  }

  /** connection.close 320 to every client, then stop listening. */
  shutdown(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.listener?.stop(false);
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
