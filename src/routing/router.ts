import type { FieldTable } from "../protocol/table.ts";
import type { BindingRecord } from "./binding.ts";

/**
 * Receives the bindings an exchange matched during one route call. It is one long-lived object per
 * vhost rather than a callback, so routing creates no closures.
 */
export interface RouteSink {
  deliver(binding: BindingRecord): void;
  /** The message headers, fetched from the publisher at most once per route call. */
  headers(): FieldTable | undefined;
}

/** The bindings of one exchange, organised for its type's matching rule. */
export interface Router {
  /** Precondition: no binding with the same identity is present. */
  add(binding: BindingRecord): void;
  /** Precondition: this very record was added and not yet removed. */
  remove(binding: BindingRecord): void;
  route(routingKey: string, sink: RouteSink): void;
}
