// The traffic counters list their fields twice more, in `keys` and in `sample` (a few plain reads
// per object when the admin samples 10,000 queues): both must match the fields, in order.
import { expect, test } from "bun:test";
import { ByteCounts, MessageCounts } from "../src/broker/message_counts.ts";
import { ExchangeCounts } from "../src/routing/exchange_state.ts";

const kinds = [
  ["MessageCounts", MessageCounts],
  ["ByteCounts", ByteCounts],
  ["ExchangeCounts", ExchangeCounts],
] as const;

for (const [name, Kind] of kinds) {
  test(`${name}: keys name every field, and sample writes each field into its key's slot`, () => {
    const counts = new Kind();
    const fields = counts as unknown as Record<string, number>;
    expect(([...Kind.keys] as string[]).sort()).toEqual(Object.keys(counts).sort());
    Kind.keys.forEach((key, i) => (fields[key] = 100 + i));
    const into = new Float64Array(Kind.keys.length);
    counts.sample(into);
    expect([...into]).toEqual(Kind.keys.map((_, i) => 100 + i));
  });
}

test("add sums every field; delivered counts one hand-out by kind", () => {
  const a = new MessageCounts();
  a.delivered(false, false, true);
  a.delivered(false, true, false);
  a.delivered(true, false, false);
  a.delivered(true, true, true);
  expect(a).toMatchObject({ deliver: 1, deliver_no_ack: 1, get: 1, get_no_ack: 1, redeliver: 2 });
  const b = new MessageCounts();
  b.publish = 3;
  b.add(a);
  b.add(a);
  expect(b).toMatchObject({ publish: 3, deliver: 2, deliver_no_ack: 2, get: 2, get_no_ack: 2, redeliver: 4, ack: 0 });
});
