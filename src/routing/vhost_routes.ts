import { invariant } from "../invariant.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { FieldTable } from "../protocol/table.ts";
import { bindingRecord, type BindingDef, type BindingRecord } from "./binding.ts";
import { builtInExchangeDefs, DEFAULT_EXCHANGE, type ExchangeDef } from "./exchange.ts";
import { ExchangeState, type ExchangeCounts } from "./exchange_state.ts";
import { validateHeadersBinding } from "./headers.ts";
import { RouteWalk } from "./route_walk.ts";

/** What the rest of the broker sees of a declared exchange. */
export interface ExchangeEntry {
  readonly def: ExchangeDef;
  readonly counts: ExchangeCounts;
}

/**
 * The exchanges and bindings of one vhost, compiled for routing. Queues live elsewhere and appear here
 * only as destination names. Single-threaded: owned by the acceptor.
 *
 * Every change to exchanges or bindings bumps `#generation`, which invalidates every exchange's route
 * cache at once: a cached result can depend on any exchange the walk reached (e2e bindings, alternate
 * exchanges declared later), so finer invalidation would have to track those dependencies.
 */
export class VhostRoutes {
  readonly #exchanges = new Map<string, ExchangeState>();
  readonly #byIdentity = new Map<string, BindingRecord>();
  readonly #toQueue = new Map<string, Set<BindingRecord>>();
  readonly #toExchange = new Map<string, Set<BindingRecord>>();
  readonly #walk = new RouteWalk();
  #generation = 0;

  constructor(readonly vhost: string) {
    for (const def of builtInExchangeDefs()) this.#exchanges.set(def.name, new ExchangeState(def));
  }

  exchange(name: string): ExchangeDef | undefined {
    return this.#exchanges.get(name)?.def;
  }

  *exchanges(): IterableIterator<ExchangeDef> {
    for (const x of this.#exchanges.values()) yield x.def;
  }

  /** An exchange with its traffic counters, in one lookup (the publish path counts on them). */
  entry(name: string): ExchangeEntry | undefined {
    return this.#exchanges.get(name);
  }

  entries(): IterableIterator<ExchangeEntry> {
    return this.#exchanges.values();
  }

  /**
   * Stores an exchange; the caller has done RabbitMQ's checks (403 on reserved names, 406 on an
   * inequivalent redeclaration). Redeclaring keeps the exchange's bindings; its type cannot change.
   */
  declareExchange(def: ExchangeDef): void {
    const existing = this.#exchanges.get(def.name);
    if (existing !== undefined) existing.redefine(def);
    else this.#exchanges.set(def.name, new ExchangeState(def));
    this.#generation++;
  }

  /** The alternate exchange the exchange's policy gives it (undefined: none); its own argument still wins. */
  setPolicyAlternate(exchange: string, alternate: string | undefined): void {
    const x = this.#exchanges.get(exchange);
    if (x === undefined) return;
    x.setPolicyAlternate(alternate);
    this.#generation++;
  }

  /**
   * Deletes an exchange and every binding it is the source or destination of. Sources that lose their
   * last binding that way and are auto-delete go too, transitively (rabbit_binding). Returns the names
   * of all exchanges removed, this one first; empty when it did not exist.
   */
  deleteExchange(name: string): string[] {
    const x = this.#exchanges.get(name);
    if (x === undefined) return [];
    const removed: string[] = [];
    this.#delete(x, removed);
    this.#generation++;
    return removed;
  }

  /**
   * Adds a binding; false when that exact binding (source, destination, key and arguments) exists.
   * The caller has checked access and that a destination queue exists. Throws NOT_FOUND for a missing
   * source or destination exchange, ACCESS_REFUSED for the default exchange, and PRECONDITION_FAILED
   * for a headers binding with an invalid x-match, with RabbitMQ's texts.
   */
  bind(b: BindingDef): boolean {
    const source = this.#exchangeForBinding(b.source);
    if (b.destinationKind === "exchange") this.#exchangeForBinding(b.destination);
    if (source.def.type === "headers") validateHeadersBinding(b.arguments);
    const record = bindingRecord(b);
    if (this.#byIdentity.has(record.identity)) return false;
    this.#byIdentity.set(record.identity, record);
    source.outgoing.add(record);
    source.router.add(record);
    const index = record.toQueue ? this.#toQueue : this.#toExchange;
    let incoming = index.get(record.def.destination);
    if (incoming === undefined) index.set(record.def.destination, (incoming = new Set()));
    incoming.add(record);
    this.#generation++;
    return true;
  }

  /** Removes a binding, then the source exchange if it is auto-delete and that was its last binding. */
  unbind(b: BindingDef): { removed: boolean; autoDeleted: string[] } {
    const record = this.#byIdentity.get(bindingRecord(b).identity);
    if (record === undefined) return { removed: false, autoDeleted: [] };
    const autoDeleted: string[] = [];
    this.#maybeAutoDelete(this.#removeBinding(record), autoDeleted);
    this.#generation++;
    return { removed: true, autoDeleted };
  }

  /**
   * RabbitMQ's exchange.delete if-unused refuses only when the exchange is a binding source
   * (rabbit_db_binding:has_for_source); asDestination is informational.
   */
  hasBindings(exchange: string): { asSource: boolean; asDestination: boolean } {
    const x = this.#exchanges.get(exchange);
    return {
      asSource: x !== undefined && x.outgoing.size > 0,
      asDestination: (this.#toExchange.get(exchange)?.size ?? 0) > 0,
    };
  }

  /** The queue was deleted: drops its bindings and returns the exchanges that auto-deleted as a result. */
  removeQueue(queue: string): string[] {
    const autoDeleted: string[] = [];
    this.#removeIncoming(this.#toQueue, queue, autoDeleted);
    this.#generation++;
    return autoDeleted;
  }

  *bindings(): IterableIterator<BindingDef> {
    for (const record of this.#byIdentity.values()) yield record.def;
  }

  bindingsOfQueue(queue: string): BindingDef[] {
    const incoming = this.#toQueue.get(queue);
    return incoming === undefined ? [] : Array.from(incoming, (record) => record.def);
  }

  /**
   * Routes a publish. Appends each destination queue name at most once to `out` (empty on entry) and
   * returns out.length. `headers` is called only if a headers exchange with bindings is reached. Follows
   * exchange-to-exchange bindings and alternate exchanges as RabbitMQ does. The default exchange is the
   * caller's: it routes to the queue named by the routing key, and never has bindings here.
   */
  route(exchange: string, routingKey: string, headers: () => FieldTable | undefined, out: string[]): number {
    invariant(exchange !== DEFAULT_EXCHANGE, "routing", "the default exchange is routed by the caller");
    invariant(out.length === 0, "routing", "route output must start empty");
    const x = this.#exchanges.get(exchange);
    if (x === undefined) return 0;
    const cached = x.cache.get(this.#generation, routingKey);
    if (cached !== undefined) {
      for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
      return out.length;
    }
    const walk = this.#walk;
    walk.run(this.#exchanges, x, routingKey, headers, out);
    if (!walk.headersDependent) x.cache.set(this.#generation, routingKey, walk.keyDependent, out.slice());
    return out.length;
  }

  #exchangeForBinding(name: string): ExchangeState {
    if (name === DEFAULT_EXCHANGE) {
      throw new AmqpError(ReplyCode.accessRefused, "operation not permitted on the default exchange");
    }
    const x = this.#exchanges.get(name);
    if (x === undefined) throw new AmqpError(ReplyCode.notFound, `no exchange '${name}' in vhost '${this.vhost}'`);
    return x;
  }

  /** Removes a binding from the tables; returns its source exchange. */
  #removeBinding(record: BindingRecord): ExchangeState {
    this.#unlink(record);
    const source = this.#exchanges.get(record.def.source);
    invariant(source !== undefined && source.outgoing.delete(record), "routing", "binding missing from its source");
    source.router.remove(record);
    return source;
  }

  /** Removes a binding from the identity and destination indexes (not from its source). */
  #unlink(record: BindingRecord): void {
    const destination = record.def.destination;
    this.#byIdentity.delete(record.identity);
    const index = record.toQueue ? this.#toQueue : this.#toExchange;
    const incoming = index.get(destination);
    invariant(incoming !== undefined && incoming.delete(record), "routing", "binding missing from destination index");
    if (incoming.size === 0) index.delete(destination);
  }

  #delete(x: ExchangeState, removed: string[]): void {
    const name = x.def.name;
    this.#exchanges.delete(name);
    removed.push(name);
    // The router and the outgoing set die with the exchange; only the other indexes need updating.
    for (const record of x.outgoing) this.#unlink(record);
    this.#removeIncoming(this.#toExchange, name, removed);
  }

  /** Drops every binding into `destination`, then auto-deletes the sources left without bindings. */
  #removeIncoming(index: Map<string, Set<BindingRecord>>, destination: string, autoDeleted: string[]): void {
    const incoming = index.get(destination);
    if (incoming === undefined) return;
    const sources = new Set<ExchangeState>();
    for (const record of Array.from(incoming)) sources.add(this.#removeBinding(record));
    for (const source of sources) this.#maybeAutoDelete(source, autoDeleted);
  }

  #maybeAutoDelete(x: ExchangeState, autoDeleted: string[]): void {
    // An exchange removed earlier in the same cascade is no longer in the table.
    if (!x.def.autoDelete || x.outgoing.size > 0 || this.#exchanges.get(x.def.name) !== x) return;
    this.#delete(x, autoDeleted);
  }
}
