import { expect, test } from "bun:test";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";

test("the README's exit-code table lists every code the processes use, and no other", async () => {
  const readme = await Bun.file(join(import.meta.dir, "../../README.md")).text();
  const lines = readme.slice(readme.indexOf("| Code | Meaning |")).split("\n");
  const table = lines.slice(2, lines.findIndex((l) => !l.startsWith("|")));
  const documented = table.map((row) => Number(row.split("|")[1]));
  expect(documented.sort((a, b) => a - b)).toEqual([...Object.values(EXIT)].sort((a, b) => a - b));
});
