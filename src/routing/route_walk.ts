import type { FieldTable } from "../protocol/table.ts";
import type { BindingRecord } from "./binding.ts";
import type { ExchangeState } from "./exchange_state.ts";
import type { RouteSink } from "./router.ts";

/**
 * One publish's walk through the exchange graph, as rabbit_exchange:route/3 does it: route the source
 * exchange, follow matched exchange-to-exchange bindings, and when an exchange matched no binding at all
 * follow its alternate exchange instead. Each exchange is routed at most once (cycles terminate) and each
 * queue is reported once however many paths reach it. One instance per vhost, reused by every call.
 */
export class RouteWalk implements RouteSink {
  readonly #queues = new Set<string>();
  readonly #seenExchanges = new Set<string>();
  readonly #pending: ExchangeState[] = [];
  #exchanges: ReadonlyMap<string, ExchangeState> | undefined = undefined;
  #out: string[] | undefined = undefined;
  #headersOf: (() => FieldTable | undefined) | undefined = undefined;
  #headers: FieldTable | undefined = undefined;
  #headersRead = false;
  #matched = 0;
  /** Whether the result depended on the routing key / the headers (decides how it may be cached). */
  keyDependent = false;
  headersDependent = false;

  /** Appends the destination queues to `out`, which must be empty. */
  run(
    exchanges: ReadonlyMap<string, ExchangeState>,
    source: ExchangeState,
    routingKey: string,
    headers: () => FieldTable | undefined,
    out: string[],
  ): void {
    this.#exchanges = exchanges;
    this.#out = out;
    this.#headersOf = headers;
    this.keyDependent = false;
    this.headersDependent = false;
    this.#seenExchanges.add(source.def.name);
    this.#pending.push(source);
    try {
      for (let x = this.#pending.pop(); x !== undefined; x = this.#pending.pop()) {
        this.#matched = 0;
        if (x.readsRoutingKey) this.keyDependent = true;
        x.router.route(routingKey, this);
        if (this.#matched === 0 && x.alternate !== undefined) this.#toExchange(x.alternate);
      }
    } finally {
      this.#pending.length = 0;
      this.#queues.clear();
      this.#seenExchanges.clear();
      this.#exchanges = undefined;
      this.#out = undefined;
      this.#headersOf = undefined;
      this.#headers = undefined;
      this.#headersRead = false;
    }
  }

  deliver(binding: BindingRecord): void {
    this.#matched++;
    const name = binding.def.destination;
    if (!binding.toQueue) this.#toExchange(name);
    else if (!this.#queues.has(name)) {
      this.#queues.add(name);
      this.#out!.push(name);
    }
  }

  headers(): FieldTable | undefined {
    this.headersDependent = true;
    if (!this.#headersRead) {
      this.#headers = this.#headersOf!();
      this.#headersRead = true;
    }
    return this.#headers;
  }

  #toExchange(name: string): void {
    if (this.#seenExchanges.has(name)) return;
    this.#seenExchanges.add(name);
    // A missing exchange (a dangling alternate-exchange) routes nothing, as in cons_if_present.
    const x = this.#exchanges!.get(name);
    if (x !== undefined) this.#pending.push(x);
  }
}
