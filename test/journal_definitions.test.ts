import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { DefinitionsStore } from "../src/journal/definitions_store.ts";
import { removeTempDirs, tempDir } from "./journal_fixtures.ts";

afterEach(removeTempDirs);

const DEFS = {
  vhosts: [{ name: "/" }],
  queues: [{ vhost: "/", name: "orders", durable: true, arguments: { "x-max-length": 10 } }],
  exchanges: [],
  bindings: [{ source: "amq.direct", destination: "orders", routing_key: "o" }],
};

describe("definitions store", () => {
  test("load gives undefined when nothing was saved", () => {
    expect(new DefinitionsStore(path.join(tempDir(), "definitions.json")).load()).toBeUndefined();
  });

  test("save then load round-trips, also through a new instance, leaving no temp file", () => {
    const file = path.join(tempDir(), "nested", "definitions.json");
    new DefinitionsStore(file).save(DEFS);
    expect(new DefinitionsStore(file).load()).toEqual(DEFS);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    new DefinitionsStore(file).save({ ...DEFS, queues: [] });
    expect(new DefinitionsStore(file).load()).toEqual({ ...DEFS, queues: [] });
  });

  test("a leftover .tmp from a crash mid-save is ignored, and the next save replaces it", () => {
    const file = path.join(tempDir(), "definitions.json");
    const store = new DefinitionsStore(file);
    store.save(DEFS);
    fs.writeFileSync(`${file}.tmp`, '{"half-writ');
    expect(store.load()).toEqual(DEFS);
    store.save({ version: 2 });
    expect(store.load()).toEqual({ version: 2 });
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  test("a corrupt file throws an error naming it", () => {
    const file = path.join(tempDir(), "definitions.json");
    fs.writeFileSync(file, "{not json");
    expect(() => new DefinitionsStore(file).load()).toThrow(file);
  });

  test("refuses values JSON cannot represent, leaving the saved file alone", () => {
    const file = path.join(tempDir(), "definitions.json");
    const store = new DefinitionsStore(file);
    store.save(DEFS);
    expect(() => store.save(undefined)).toThrow(/JSON/);
    expect(store.load()).toEqual(DEFS);
  });
});
