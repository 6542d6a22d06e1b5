/**
 * `bun run build` compiles dist/paxos for this host; `bun run build:all` cross-compiles
 * dist/paxos-{linux,darwin}-{x64,arm64}. The binaries carry everything they need (no node_modules).
 */
import { $ } from "bun";

const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
const all = process.argv.includes("--all");

async function compile(outfile: string, target?: string): Promise<void> {
  const t = target ? [`--target=bun-${target}`] : [];
  await $`bun build --compile --minify --bytecode --format=esm ${t} src/main.ts --outfile ${outfile}`.quiet();
  console.log(`built ${outfile}`);
}

await $`mkdir -p dist`;
if (all) for (const t of TARGETS) await compile(`dist/paxos-${t}`, t);
else await compile("dist/paxos");
