// RabbitMQ's validation messages print the offending value as Erlang's ~p prints the term that
// rabbit_json decoded it to; Warren's texts do the same, so they match RabbitMQ's byte for byte.

/** A JSON value as ~p prints it: <<"x">>, 5, null, [1,2], #{<<"k">> => 1} (map keys sorted). */
export function erlangTerm(value: unknown): string {
  if (typeof value === "string") return `<<"${value.replace(/[\\"]/g, (c) => `\\${c}`)}">>`;
  if (Array.isArray(value)) return `[${value.map(erlangTerm).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `#{${Object.entries(value).sort(([a], [b]) => compareBinaries(a, b)).map(([k, v]) => `${erlangTerm(k)} => ${erlangTerm(v)}`).join(",")}}`;
  }
  return String(value);
}

/** RabbitMQ lists a request's missing keys in one reason: "[{key_missing,pattern},{key_missing,definition}]". */
export function keysMissing(body: Readonly<Record<string, unknown>>, keys: readonly string[]): string | null {
  const missing = keys.filter((k) => body[k] === undefined);
  return missing.length === 0 ? null : `[${missing.map((k) => `{key_missing,${k}}`).join(",")}]`;
}

/** Erlang's order of binaries (byte order; code-point order for these strings): how its maps sort keys. */
export function compareBinaries(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
