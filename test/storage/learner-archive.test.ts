import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LearnerArchive } from "../../src/storage/learner-archive.ts";
import { b, ids, val } from "../protocol/helpers.ts";

test("a learner archive serves ranges of delivered instances, and survives a reopen", () => {
  const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"));
  const a = LearnerArchive.open(dir, 7, 1);
  for (let inst = 0; inst < 1000; inst++) a.append(inst, inst % 10 === 0 ? b() : b(val(1, inst)));
  const got = a.read(500, 503, 1 << 20);
  expect(got.map((p) => [p.inst, ids(p.cVal)])).toEqual([[500, []], [501, ["1:501"]], [502, ["1:502"]]]);
  expect(a.read(995, 2000, 1 << 20).map((p) => p.inst)).toEqual([995, 996, 997, 998, 999]);
  expect(a.read(1000, 2000, 1 << 20)).toEqual([]);
  expect(a.read(0, 1000, 200).length).toBeLessThan(20); // bounded by bytes
  a.close();
  const again = LearnerArchive.open(dir, 7, 1);
  expect(again.size).toBe(1000);
  again.append(999, b(val(9, 9))); // already archived: skipped
  again.append(1000, b(val(1, 1000)));
  expect(again.read(998, 1001, 1 << 20).map((p) => ids(p.cVal))).toEqual([["1:998"], ["1:999"], ["1:1000"]]);
  again.close();
});
