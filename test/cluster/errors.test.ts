/**
 * Failures a user can cause, on the compiled binary: each is one line that names the cause and
 * what to do, with its documented exit code (src/exit-codes.ts), and never a stack or the
 * minified source of the binary. The last-resort handler for unexpected errors runs from source,
 * with a preloaded fault, since nothing in the binary fails unexpectedly on purpose.
 */
import { describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";
import { BINARY, Cluster, clusterTests } from "./harness.ts";

const ROOT = join(import.meta.dir, "../..");
/** Each test starts a few processes; on a loaded machine that takes seconds. */
const TEST_TIMEOUT_MS = 60_000;
/** TEST-NET-3 (RFC 5737): never an address of this host, and nothing is ever sent to it. */
const FOREIGN_ADDRESS = "203.0.113.77";

const newCluster = clusterTests();

/** stderr is exactly one line starting "paxos: ", without a stack or quoted source. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^paxos: /);
  expect(stderr).not.toContain("Bun v");
  return lines[0]!;
}

/** The cluster's config with `change` applied, written to a new file; returns its path. */
function configWith(c: Cluster, name: string, change: (config: any) => void): string {
  const config = JSON.parse(readFileSync(c.configPath, "utf8"));
  change(config);
  const path = join(c.dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

const run = (args: string[], cwd: string, env: Record<string, string | undefined> = process.env) =>
  Bun.spawnSync([BINARY, ...args], { cwd, env, stdout: "pipe", stderr: "pipe" });

describe("errors are sentences (compiled binary)", () => {
  test("network.interface not on this host: exit 7, names the key and the addresses that are up", () => {
    const c = newCluster();
    const config = configWith(c, "foreign.json", (x) => (x.network.interface = FOREIGN_ADDRESS));
    for (const role of ["acceptor", "learner"]) {
      const r = run(["--role", role, "--id", "1", "--config", config], c.dir);
      expect(r.exitCode).toBe(EXIT.network);
      const line = expectOneLine(r.stderr.toString());
      expect(line).toContain(`cannot use network.interface ${FOREIGN_ADDRESS}: no such address on this host (up here: `);
      expect(line).toContain("127.0.0.1");
    }
  }, TEST_TIMEOUT_MS);

  const root = process.getuid?.() === 0;
  const canUnshare = Bun.spawnSync(["unshare", ...(root ? ["-n"] : ["-rn"]), "true"], { stderr: "ignore" }).exitCode === 0;
  test.skipIf(!canUnshare)(`the network down at start (a new network namespace, lo down): exit 7${canUnshare ? "" : " (skipped: unshare -n not permitted)"}`, () => {
    const r = Bun.spawnSync(["unshare", ...(root ? ["-n"] : ["-rn"]), BINARY, "--role", "proposer", "--id", "1"], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(EXIT.network);
    const line = expectOneLine(r.stderr.toString());
    expect(line).toContain("cannot join multicast group 239.0.0.1:6000 (network.groups.proposers) on interface 127.0.0.1: 127.0.0.1 is not up on this host (no IPv4 address is up here)");
    expect(line).toContain("bring its network up (ip link)");
  }, TEST_TIMEOUT_MS);

  test("a group port held by a socket that does not share it: exit 7, names the group and the port", async () => {
    const c = newCluster();
    const holder = dgram.createSocket({ type: "udp4", reuseAddr: false });
    await new Promise<void>((resolve) => holder.bind(c.ports.acceptors, c.address, resolve));
    try {
      const r = run(["--role", "acceptor", "--id", "1", "--config", c.configPath], c.dir);
      expect(r.exitCode).toBe(EXIT.network);
      const line = expectOneLine(r.stderr.toString());
      expect(line).toContain(`cannot join multicast group ${c.address}:${c.ports.acceptors} (network.groups.acceptors) on interface 127.0.0.1: another program holds port ${c.ports.acceptors} without sharing it`);
    } finally {
      holder.close();
    }
  }, TEST_TIMEOUT_MS);

  test("an unreadable config file is a config error (exit 2), not a crash", () => {
    const c = newCluster();
    const config = configWith(c, "secret.json", () => {});
    chmodSync(config, 0o000);
    chmodSync(c.dir, 0o755);
    // root reads any file: drop to nobody for this one.
    const asUser = root ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const r = Bun.spawnSync([...asUser, BINARY, "--role", "acceptor", "--id", "1", "--config", config], { cwd: "/", stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(EXIT.usage);
    const err = r.stderr.toString();
    expect(err).toContain(`${config}: cannot read it: permission denied (this process runs as uid ${root ? 65534 : process.getuid?.()}); make it readable`);
    expect(err).not.toContain("Bun v");
  }, TEST_TIMEOUT_MS);

  test("--config naming a directory says it is a directory", () => {
    const c = newCluster();
    const r = run(["--role", "acceptor", "--id", "1", "--config", c.dir], c.dir);
    expect(r.exitCode).toBe(EXIT.usage);
    expect(r.stderr.toString()).toContain(`${c.dir}: is a directory; name the config file in it`);
    expect(r.stderr.toString()).not.toContain("no such file");
  }, TEST_TIMEOUT_MS);

  test("a file the system refuses (a latency log in a missing directory): exit 1, names the file and the reason", () => {
    const c = newCluster();
    const r = Bun.spawnSync([BINARY, "--role", "client", "--id", "1", "--config", c.configPath, "--latency-log", join(c.dir, "missing", "x.tsv")], {
      cwd: c.dir,
      stdin: new Blob(["a\n"]),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(EXIT.rejected);
    expect(expectOneLine(r.stderr.toString())).toBe(`paxos: cannot open ${join(c.dir, "missing", "x.tsv")}: no such file or directory (ENOENT)`);
  }, TEST_TIMEOUT_MS);

  test("paxos demo --logs naming a file: exit 2, one line", () => {
    const c = newCluster();
    writeFileSync(join(c.dir, "notes.txt"), "mine\n");
    const r = run(["demo", "--logs", "notes.txt"], c.dir);
    expect(r.exitCode).toBe(EXIT.usage);
    expect(expectOneLine(r.stderr.toString())).toBe("paxos: --logs notes.txt: is a file, not a directory; name a directory (it is created when missing)");
    expect(readFileSync(join(c.dir, "notes.txt"), "utf8")).toBe("mine\n");
  }, TEST_TIMEOUT_MS);

  test("paxos demo reports a child's own failure line, not the runtime's banner", () => {
    const c = newCluster();
    const config = configWith(c, "foreign.json", (x) => (x.network.interface = FOREIGN_ADDRESS));
    mkdirSync(join(c.dir, "logs"));
    const r = run(["demo", "-n", "5", "--config", config, "--logs", join(c.dir, "logs"), "--timeout", "5", "--sleep", "1"], c.dir);
    expect(r.exitCode).toBe(1);
    const err = r.stderr.toString();
    expect(err).toMatch(new RegExp(`paxos demo: FAILED: (learner|client)-\\d exited with code 7: cannot use network.interface ${FOREIGN_ADDRESS.replaceAll(".", "\\.")}: no such address on this host`));
    expect(err).not.toContain("Bun v");
  }, TEST_TIMEOUT_MS);
});

describe("the last-resort handler (from source, with a preloaded fault)", () => {
  const fromSource = (preload: string, args: string[]) =>
    Bun.spawn(["bun", "--preload", preload, join(ROOT, "src/main.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const preload = (c: Cluster, name: string, code: string): string => {
    const path = join(c.dir, name);
    writeFileSync(path, code);
    return path;
  };
  const outputOf = async (p: ReturnType<typeof fromSource>) => {
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    return { code, err };
  };

  test("an unexpected error while starting: one line and a hint to rerun with --debug, exit 70", async () => {
    const c = newCluster();
    const boom = preload(c, "boom.ts", `(Bun as any).udpSocket = async () => { throw new TypeError("boom in udpSocket"); };`);
    const text = await outputOf(fromSource(boom, ["--role", "acceptor", "--id", "1", "--config", c.configPath]));
    expect(text.code).toBe(EXIT.invariant);
    expect(expectOneLine(text.err)).toBe("paxos: unexpected error: TypeError: boom in udpSocket; this is a bug: rerun with --debug to see the stack, and please report it");

    const json = await outputOf(fromSource(boom, ["--role", "acceptor", "--id", "1", "--config", c.configPath, "--log-format", "json"]));
    expect(json.code).toBe(EXIT.invariant);
    const lines = json.err.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0]!);
    expect(o).toMatchObject({ level: "fatal", tag: "acceptor-1", msg: "unexpected error: TypeError: boom in udpSocket; this is a bug: rerun with --debug to see the stack, and please report it" });
    expect(o.stack).toBeUndefined();

    const debugJson = await outputOf(fromSource(boom, ["--role", "acceptor", "--id", "1", "--config", c.configPath, "--log-format", "json", "--debug"]));
    const d = JSON.parse(debugJson.err.trimEnd().split("\n").at(-1)!);
    expect(d.msg).toBe("unexpected error: TypeError: boom in udpSocket; this is a bug: please report it with the stack below");
    expect(d.stack).toContain("at ");
  }, TEST_TIMEOUT_MS);

  test("an error thrown later, outside any promise: one line; with --debug, the stack follows", async () => {
    const c = newCluster();
    // Thrown from a timer once main.ts has installed its handlers, however slowly it loads.
    const late = preload(
      c,
      "late.ts",
      `const t = setInterval(() => { if (process.listenerCount("uncaughtException") > 0) { clearInterval(t); throw new RangeError("late boom"); } }, 20);`,
    );
    for (const debug of [false, true]) {
      const p = fromSource(late, ["--role", "acceptor", "--id", "1", "--config", c.configPath, ...(debug ? ["--debug"] : [])]);
      const { code, err } = await outputOf(p);
      expect(code).toBe(EXIT.invariant);
      const lines = err.split("\n").filter((l) => l.startsWith("paxos: "));
      expect(lines).toEqual([`paxos: unexpected error: RangeError: late boom; this is a bug: ${debug ? "please report it with the stack below" : "rerun with --debug to see the stack, and please report it"}`]);
      if (debug) expect(err).toContain("late.ts:");
      else expect(err).not.toContain("    at ");
    }
  }, TEST_TIMEOUT_MS);
});
