/**
 * Private network namespaces for benchmark runs (Linux, root): a holder process (`unshare -n sleep
 * infinity`) keeps a fresh namespace alive with only `lo`, brought up; `prefix` runs a command in
 * it (`nsenter --net=/proc/HOLDER/ns/net -- CMD`: nsenter execs CMD, so the spawned process's id
 * is CMD's own and its /proc entries and resource usage are CMD's).
 */
import { readlinkSync } from "node:fs";

export interface Netns {
  /** Put before a command to run it inside the namespace. */
  readonly prefix: readonly string[];
  /** Ends the holder; the namespace goes away with its last process. */
  close(): Promise<void>;
}

/** Why private namespaces cannot be made here (a sentence), or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== "linux") return "private network namespaces need Linux";
  if (process.getuid?.() !== 0) return "private network namespaces need root (unshare -n)";
  for (const tool of ["unshare", "nsenter", "ip"]) if (Bun.which(tool) === null) return `private network namespaces need '${tool}', which is not installed`;
  try {
    await (await privateNetns()).close();
    return undefined;
  } catch (e) {
    return `a private network namespace could not be made (${(e as Error).message})`;
  }
}

/** A fresh network namespace with `lo` up. */
export async function privateNetns(): Promise<Netns> {
  const holder = Bun.spawn(["unshare", "-n", "sleep", "infinity"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const close = async () => {
    holder.kill();
    await holder.exited;
  };
  const path = `/proc/${holder.pid}/ns/net`;
  const own = readlinkSync("/proc/self/ns/net");
  const deadline = performance.now() + 5000;
  // unshare(2) happens a moment after the spawn: until then the holder is still in our namespace.
  for (;;) {
    if (holder.exitCode !== null) throw new Error(`unshare -n: ${(await new Response(holder.stderr).text()).trim() || `exit ${holder.exitCode}`}`);
    let ns: string | undefined;
    try {
      ns = readlinkSync(path);
    } catch {
      ns = undefined;
    }
    if (ns !== undefined && ns !== own) break;
    if (performance.now() > deadline) {
      await close();
      throw new Error("unshare -n did not make a namespace within 5 s");
    }
    await Bun.sleep(2);
  }
  const prefix = ["nsenter", `--net=${path}`, "--"];
  const up = Bun.spawnSync([...prefix, "ip", "link", "set", "lo", "up"], { stderr: "pipe" });
  if (up.exitCode !== 0) {
    await close();
    throw new Error(`ip link set lo up: ${up.stderr.toString().trim()}`);
  }
  return { prefix, close };
}
