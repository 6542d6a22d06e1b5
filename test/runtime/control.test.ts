import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTROL_EVERY_MS, parseControl, watchControl, writeControl, type Control } from "../../src/runtime/control.ts";

const dir = mkdtempSync(join(tmpdir(), "paxos-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("parses a loss, refuses what is not one", () => {
  expect(parseControl('{"loss": 0.25}')).toEqual({ loss: 0.25 });
  expect(parseControl("{}")).toEqual({});
  expect(() => parseControl('{"loss": 2}')).toThrow(/probability from 0 to 1/);
  expect(() => parseControl("[1]")).toThrow(/JSON object/);
  expect(() => parseControl("nope")).toThrow();
  expect(() => parseControl('{"lost": 0.1}')).toThrow(/unknown setting "lost"/); // a typo is said, not ignored
});

test("applies the file at once and whenever it changes; a bad one is said and ignored", async () => {
  const path = join(dir, "p.control.json");
  const seen: Control[] = [];
  const warnings: string[] = [];
  const stop = watchControl(path, (c) => seen.push(c), (w) => warnings.push(w));
  expect(seen).toEqual([]); // no file yet: nothing changes
  writeControl(path, { loss: 0.1 });
  await Bun.sleep(CONTROL_EVERY_MS * 2 + 50);
  writeFileSync(path, "{bad");
  await Bun.sleep(CONTROL_EVERY_MS * 2 + 50);
  writeControl(path, { loss: 0 });
  await Bun.sleep(CONTROL_EVERY_MS * 2 + 50);
  stop();
  expect(seen).toEqual([{ loss: 0.1 }, { loss: 0 }]);
  expect(warnings).toHaveLength(1);
  expect(watchControl(undefined, () => {}, () => {})).toBeFunction();
});
