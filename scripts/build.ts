/**
 * `bun run build` compiles dist/paxos for this host; `bun run build:all` cross-compiles
 * dist/paxos-{linux,darwin}-{x64,arm64}. The binaries carry everything they need (no node_modules)
 * and know their commit and build time (src/version.ts). scripts/release.ts packages them.
 */
import { $ } from "bun";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
export type Target = (typeof TARGETS)[number];

/** The target of the machine this runs on, or null when no target fits it. */
export function hostTarget(): Target | null {
  const t = `${process.platform}-${process.arch}`;
  return (TARGETS as readonly string[]).includes(t) ? (t as Target) : null;
}

export interface Stamp {
  /** 12 hex digits of HEAD, "-dirty" when tracked files differ from it; "unknown" outside git. */
  readonly commit: string;
  /** Seconds since the epoch: SOURCE_DATE_EPOCH when set, else the commit's time. */
  readonly epochS: number;
}

/**
 * What a build embeds. The build time is the commit's time, not the clock's: the same commit
 * then compiles to the same bytes, and its archives have the same contents.
 */
export async function stamp(): Promise<Stamp> {
  const git = (...args: string[]) => $`git ${args}`.cwd(ROOT).quiet().nothrow();
  const head = await git("rev-parse", "--short=12", "HEAD");
  const fromEnv = Number(process.env.SOURCE_DATE_EPOCH);
  if (head.exitCode !== 0) {
    return { commit: "unknown", epochS: Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Date.now() / 1000) };
  }
  const dirty = (await git("status", "--porcelain", "--untracked-files=no")).stdout.length > 0;
  const time = Number((await git("log", "-1", "--format=%ct")).stdout.toString().trim());
  return { commit: `${head.stdout.toString().trim()}${dirty ? "-dirty" : ""}`, epochS: Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : time };
}

export const isoTime = (epochS: number): string => new Date(epochS * 1000).toISOString().replace(".000Z", "Z");

/**
 * Compiles src/main.ts to `outfile` (for `target`, or this host). The file's name is embedded
 * in the binary, so reproducible builds keep the same name. Throws with bun's own message.
 */
export async function compile(outfile: string, s: Stamp, target?: Target): Promise<void> {
  const t = target ? [`--target=bun-${target}`] : [];
  const defines = ["--define", `PAXOS_BUILD_COMMIT=${JSON.stringify(s.commit)}`, "--define", `PAXOS_BUILD_TIME=${JSON.stringify(isoTime(s.epochS))}`];
  const r = await $`bun build --compile --minify --bytecode --format=esm ${defines} ${t} src/main.ts --outfile ${outfile}`.cwd(ROOT).quiet().nothrow();
  if (r.exitCode !== 0) {
    const why = `${r.stderr}${r.stdout}`.trim().split("\n").filter((l) => l.trim() !== "").pop() ?? `exit code ${r.exitCode}`;
    throw new Error(why.trim());
  }
}

if (import.meta.main) {
  const s = await stamp();
  await $`mkdir -p ${join(ROOT, "dist")}`;
  const jobs: [string, Target | undefined][] = process.argv.includes("--all") ? TARGETS.map((t) => [`dist/paxos-${t}`, t]) : [["dist/paxos", undefined]];
  for (const [outfile, target] of jobs) {
    await compile(join(ROOT, outfile), s, target);
    console.log(`built ${outfile}`);
  }
}
