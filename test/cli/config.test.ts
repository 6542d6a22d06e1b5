import { describe, expect, test } from "bun:test";
import { ConfigError, DEFAULT_CONFIG, mergeDeep, validateConfig } from "../../src/config.ts";

/** The problems a config has, one line each. */
function problems(over: Record<string, unknown>): string[] {
  try {
    validateConfig(mergeDeep(DEFAULT_CONFIG, over), "test");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

describe("config validation", () => {
  test("one mistake, one line: metrics.listen that is not host:port is not also called a bad port", () => {
    expect(problems({ metrics: { listen: "nonsense" } })).toEqual(['test: metrics.listen: expected host:port, e.g. 127.0.0.1:9464, found "nonsense"']);
    expect(problems({ metrics: { listen: "127.0.0.1:70000" } })).toHaveLength(1);
    expect(problems({ metrics: { listen: "127.0.0.1:9464" } })).toEqual([]);
  });
});
