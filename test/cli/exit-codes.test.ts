import { expect, test } from "bun:test";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";

const ROOT = join(import.meta.dir, "../..");

test("the README's exit-code table lists every code the processes use, and no other", async () => {
  const readme = await Bun.file(join(ROOT, "README.md")).text();
  const header = readme.indexOf("| Code | Meaning |");
  expect(header).toBeGreaterThanOrEqual(0);
  const lines = readme.slice(header).split("\n");
  const table = lines.slice(2, lines.findIndex((l) => !l.startsWith("|")));
  const documented = table.map((row) => Number(row.split("|")[1]));
  expect(documented.sort((a, b) => a - b)).toEqual([...Object.values(EXIT)].sort((a, b) => a - b));
});

test("every code in src/exit-codes.ts says what it means, in one line above it", async () => {
  const lines = (await Bun.file(join(ROOT, "src/exit-codes.ts")).text()).split("\n");
  for (const [name, code] of Object.entries(EXIT)) {
    const at = lines.findIndex((l) => l.trim() === `${name}: ${code},`);
    expect(at, `${name}: ${code}`).toBeGreaterThan(0);
    expect(lines[at - 1]!.trim(), `the line above ${name}`).toMatch(/^\/\*\* \S.* \*\/$/);
  }
});
