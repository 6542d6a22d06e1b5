/**
 * A broken invariant in a real process: the runtime logs which one and exits with its own code
 * (70), rather than go on. Roles never trip one on input, so a role that does is planted here, in
 * a child process driven through the runtime's receive path.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { EXIT } from "../../src/exit-codes.ts";


// Real processes on a shared, sometimes busy, 2-core machine: room beyond bun's 5 s default.
setDefaultTimeout(120_000);
const SRC = join(import.meta.dir, "../../src");

/** Runs a Node with `role` (JavaScript source) in a child process, hands it one datagram; its exit code and output. */
async function nodeWith(role: string): Promise<{ code: number; out: string; err: string }> {
  const script = `
    import { Node } from "${SRC}/runtime/node.ts";
    import { DEFAULT_CONFIG } from "${SRC}/config.ts";
    import { createLogger } from "${SRC}/runtime/log.ts";
    import { assert } from "${SRC}/protocol/assert.ts";
    import { Effects } from "${SRC}/protocol/messages.ts";
    import { encode } from "${SRC}/net/codec.ts";
    const role = ${role};
    const node = new Node({ config: DEFAULT_CONFIG, group: "learners", role, log: createLogger("learner-1", false), loss: 0, seed: 1 });
    node.onDatagram(encode({ t: "decision", decided: [], decidedBelow: 0 }, { cluster: DEFAULT_CONFIG.cluster, acceptors: DEFAULT_CONFIG.acceptors }));
    console.log("went on");
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

test("an invariant failure logs the invariant and exits 70", async () => {
  const { code, out, err } = await nodeWith(`{ step() { assert(false, "a planted invariant"); } }`);
  expect(code).toBe(EXIT.invariant);
  expect(out).not.toContain("went on");
  expect(err).toContain("invariant violated: a planted invariant");
  expect(err).not.toMatch(/^\s+at /m); // one line, no stack dump
});

// The runtime checks a role's invariants after its first step, then after every 1024th.
test("a role whose invariants() fails after a step stops the process the same way, naming it", async () => {
  const { code, out, err } = await nodeWith(`{ step() { return new Effects(); }, invariants() { assert(false, "a planted role invariant"); } }`);
  expect(code).toBe(EXIT.invariant);
  expect(out).not.toContain("went on");
  expect(err).toContain("invariant violated: a planted role invariant");
});
