import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, DEFAULT_CONFIG, defaultConfigYaml, loadConfigFile, mergeDeep, validateConfig } from "../../src/config.ts";
import { jsonProblems, yamlProblems } from "../../src/config-syntax.ts";
import { ACCEPTORS_MAX } from "../../src/protocol/id-limits.ts";

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

/** The problems of a config file with this text, one line each (none: it loads). */
async function fileProblems(name: string, text: string): Promise<string[]> {
  const path = join(mkdtempSync(join(tmpdir(), "paxos-config-")), name);
  writeFileSync(path, text);
  try {
    await loadConfigFile(path);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => p.replace(path, name));
  }
}

// Issue 20: "Say where and what, once."
describe("config files: where and what, once", () => {
  test("a YAML syntax error names its line and column, and the line", async () => {
    expect(await fileProblems("c.yaml", "cluster: 1\nnetwork:\n  interface: 127.0.0.1\n  ttl: [1, 2\nacceptors: 3\n")).toEqual([
      "c.yaml:4:8: not valid YAML (unexpected token): `  ttl: [1, 2`",
    ]);
    expect(await fileProblems("c.yaml", 'cluster: 1\nnetwork:\n  interface: "127.0.0.1\n  ttl: 2\n')).toEqual([
      'c.yaml:3:14: not valid YAML (unexpected character): `  interface: "127.0.0.1`',
    ]);
    expect(await fileProblems("c.yaml", "cluster: 1\n\tacceptors: 3\n")).toEqual([
      "c.yaml:2:1: not valid YAML (tab characters cannot be used as indentation): `\tacceptors: 3`",
    ]);
  });

  test("a JSON syntax error names its line and column", async () => {
    expect(await fileProblems("c.json", '{\n  "cluster": 1,\n  "acceptors": }\n')).toEqual(["c.json:3:16: not valid JSON: unexpected '}'"]);
    expect(await fileProblems("c.json", '{"cluster": 1,\n "network": {"ttl": 1}')).toEqual(["c.json:2:23: not valid JSON: unexpected end of file (an object is not closed)"]);
    expect(await fileProblems("c.json", '{"cluster": "1\n}')).toEqual(["c.json:1:13: not valid JSON: a string is not closed on its line"]);
  });

  test("a key given twice is refused, in YAML and JSON, naming both places", async () => {
    expect(await fileProblems("c.yaml", "network:\n  ttl: 1\nacceptors: 3\nnetwork:\n  ttl: 2\n")).toEqual([
      "c.yaml:4:1: network: given twice (first at line 1); a second one would replace the first",
    ]);
    expect(await fileProblems("c.yaml", "network:\n  ttl: 1\n  groups:\n    clients: { address: 239.0.0.1, port: 5000, port: 5001 }\n  ttl: 2\n")).toEqual([
      "c.yaml:4:48: network.groups.clients.port: given twice (first at line 4); a second one would replace the first",
      "c.yaml:5:3: network.ttl: given twice (first at line 2); a second one would replace the first",
    ]);
    expect(await fileProblems("c.json", '{"cluster": 1,\n "network": {"ttl": 1, "ttl": 2},\n "cluster": 2}')).toEqual([
      "c.json:2:24: network.ttl: given twice (first at line 2); a second one would replace the first",
      "c.json:3:2: cluster: given twice (first at line 1); a second one would replace the first",
    ]);
    // The same key in two mappings, or in a value, is no duplicate.
    expect(await fileProblems("c.yaml", "network:\n  groups:\n    clients: { address: 239.0.0.1, port: 5000 }\n    proposers: { address: 239.0.0.1, port: 6000 }\n")).toEqual([]);
    expect(await fileProblems("c.json", '{"auth": {"key": "key: key: key: 0123456789"}, "metrics": {"listen": null}}')).toEqual([]);
  });

  test("a wrong type says what was expected in words", async () => {
    expect(await fileProblems("c.yaml", "acceptors: 3.5\n")).toEqual([`c.yaml: acceptors: expected an integer from 1 to ${ACCEPTORS_MAX}, found 3.5`]);
    expect(await fileProblems("c.yaml", "acceptors: 0\n")).toEqual([`c.yaml: acceptors: expected an integer from 1 to ${ACCEPTORS_MAX}, found 0`]);
    expect(await fileProblems("c.yaml", 'acceptors: "3"\n')).toEqual([`c.yaml: acceptors: expected an integer from 1 to ${ACCEPTORS_MAX}, found "3"`]);
    expect(await fileProblems("c.yaml", "network: 5\n")).toEqual(["c.yaml: network: expected a mapping of settings, found 5"]);
    expect(await fileProblems("c.yaml", "loss: 2\n")).toEqual(["c.yaml: loss: expected a number from 0 to 1, found 2"]);
  });

  test("a file that is not a mapping of settings says so once", async () => {
    expect(await fileProblems("c.yaml", "[]\n")).toEqual(["c.yaml: expected a mapping of settings (see `paxos config`), found an array"]);
    expect(await fileProblems("c.json", "42")).toEqual(["c.json: expected a mapping of settings (see `paxos config`), found 42"]);
    expect(await fileProblems("c.yaml", "")).toEqual([]); // empty: every default
    expect(await fileProblems("c.yaml", "network: []\n")).toEqual(["c.yaml: network: expected a mapping of settings, found an array"]);
  });
});

describe("the scan for syntax errors and duplicate keys", () => {
  test("finds nothing wrong in `paxos config`'s output and the example config", async () => {
    const example = await Bun.file(join(import.meta.dir, "../../deploy/paxos.example.yaml")).text();
    for (const text of [defaultConfigYaml(), example]) expect(yamlProblems(text)).toEqual({ duplicates: [] });
    expect(jsonProblems(JSON.stringify(DEFAULT_CONFIG, null, 2))).toEqual({ duplicates: [] });
  });

  test("never throws, whatever the text: every prefix of a config, and random bytes", () => {
    const text = defaultConfigYaml();
    const json = JSON.stringify(DEFAULT_CONFIG, null, 1);
    for (let n = 0; n <= text.length; n += 7) yamlProblems(text.slice(0, n));
    for (let n = 0; n <= json.length; n++) jsonProblems(json.slice(0, n));
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ' \t\n:-{}[],"\'#|>&*!a1';
    for (let k = 0; k < 300; k++) {
      const t = Array.from({ length: Math.floor(rnd() * 60) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("");
      yamlProblems(t);
      jsonProblems(t);
    }
  });
});
