/** Entries per exchange before the cache is dropped whole (cheaper than tracking recency per publish). */
export const ROUTE_CACHE_MAX_ENTRIES = 4096;

/**
 * The final queue names one source exchange routed to, per routing key, valid for one generation of
 * the vhost's routing tables. A result that did not depend on the routing key (only fanout exchanges
 * reached) is kept once for every key. Results that depended on message headers are never stored.
 * Stored arrays are never handed out: callers copy from them.
 */
export class RouteCache {
  #generation = -1;
  readonly #byKey = new Map<string, readonly string[]>();
  #anyKey: readonly string[] | undefined = undefined;

  get(generation: number, routingKey: string): readonly string[] | undefined {
    if (generation !== this.#generation) {
      this.#byKey.clear();
      this.#anyKey = undefined;
      this.#generation = generation;
      return undefined;
    }
    return this.#anyKey ?? this.#byKey.get(routingKey);
  }

  /** Ignored when `generation` is not the one the last get() saw: the result may already be stale. */
  set(generation: number, routingKey: string, keyDependent: boolean, queues: readonly string[]): void {
    if (generation !== this.#generation) return;
    if (!keyDependent) {
      this.#anyKey = queues;
      return;
    }
    if (this.#byKey.size >= ROUTE_CACHE_MAX_ENTRIES) this.#byKey.clear();
    this.#byKey.set(routingKey, queues);
  }
}
