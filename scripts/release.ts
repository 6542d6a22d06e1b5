/**
 * `bun run release`: builds the four targets and writes to dist/release/ one archive per platform,
 * `paxos-<version>-<os>-<arch>.tar.gz` (the binary, the documents: LICENSE, README.md,
 * OPERATIONS.md, DESIGN.md, BENCHMARKS.md, CHANGELOG.md and docs/ that they link, and deploy/),
 * plus SHA256SUMS over the archives. A release for some targets only (`--target host`) replaces
 * those and keeps this version's archives of the others, saying so; archives of other versions
 * are removed, saying so too. The same commit gives the same bytes: the binary embeds the
 * commit's time (scripts/build.ts), and tar fixes names' order, times, owners and modes.
 *
 *   bun run release [--target T]... [--out DIR] [--changelog FILE] [--expect-version V]
 *   bun run release --print-notes      # the version's CHANGELOG entry (release notes), to stdout
 *
 * --target: only these targets ("host" for this machine); --expect-version: refuse unless
 * package.json says V (CI passes the tag's version).
 */
import { $ } from "bun";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { ROOT, TARGETS, compile, hostTarget, stamp, type Stamp, type Target } from "./build.ts";

/** What each archive holds beside the binary, as paths from the repository root. */
const FILES = [
  "LICENSE", "README.md", "OPERATIONS.md", "DESIGN.md", "BENCHMARKS.md", "CHANGELOG.md", "docs/demo-ui.png",
  "docs/synod.svg", "docs/phase1.svg", "docs/phase2.svg",
  "deploy/paxos.example.yaml", "deploy/systemd/paxos@.service", "deploy/systemd/paxos-restart.conf",
];

export class ReleaseError extends Error {}

/** The text of `version`'s section of a changelog (`## 0.1.0`, `## [0.1.0] - date`), or null when it has none or it is empty. */
export function changelogEntry(changelog: string, version: string): string | null {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const heading = new RegExp(`^## \\[?v?${escaped}(?:\\]|\\s|$)`);
  const lines = changelog.split("\n");
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && /^##? /.test(l));
  const body = lines.slice(start + 1, end < 0 ? undefined : end).join("\n").trim();
  return body === "" ? null : body;
}

export const archiveName = (version: string, target: Target) => `paxos-${version}-${target}`;

/** `tar | gzip` of `dir`/`name`, with the contents alone deciding the bytes. */
async function pack(dir: string, name: string, epochS: number, archive: string): Promise<void> {
  const fixed = ["--sort=name", "--format=gnu", `--mtime=@${epochS}`, "--owner=0", "--group=0", "--numeric-owner"];
  // GNU tar runs gzip itself and fails when gzip does; -n keeps the name and time out of its header.
  const r = await $`tar ${fixed} --use-compress-program=${"gzip -n"} -C ${dir} -cf ${archive} ${name}`.quiet().nothrow();
  if (r.exitCode !== 0) throw new ReleaseError(`cannot pack ${name} (GNU tar and gzip needed): ${r.stderr.toString().trim().split("\n")[0]}`);
}

/** Stages one platform's files under `stage`/`name` with fixed modes (umask must not matter). */
async function stageTarget(stage: string, name: string, s: Stamp, target: Target): Promise<void> {
  const top = join(stage, name);
  for (const f of FILES) mkdirSync(dirname(join(top, f)), { recursive: true });
  try {
    await compile(join(top, "paxos"), s, target);
  } catch (e) {
    const why = (e as Error).message;
    const download = /download/i.test(why)
      ? ` (cross-compiling needs Bun's runtime for ${target}, which bun fetches once from the npm registry into ~/.bun/install/cache: run once online, or use --target host)`
      : "";
    throw new ReleaseError(`cannot build ${target}: ${why}${download}`);
  }
  for (const f of FILES) cpSync(join(ROOT, f), join(top, f));
  const fix = (p: string) => {
    const isDir = statSync(p).isDirectory();
    chmodSync(p, isDir || p.endsWith("/paxos") ? 0o755 : 0o644);
    if (isDir) for (const e of readdirSync(p)) fix(join(p, e));
  };
  fix(top);
}

async function sha256(file: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(file).stream()) h.update(chunk);
  return h.digest("hex");
}

/** package.json's version and its CHANGELOG entry; refuses (ReleaseError) when there is none. */
export async function versionNotes(changelogPath: string, expectVersion?: string): Promise<{ version: string; notes: string }> {
  const version = pkg.version;
  if (expectVersion !== undefined && expectVersion !== version) {
    throw new ReleaseError(`package.json says version ${version}, expected ${expectVersion} (tag and package.json must agree)`);
  }
  let changelog = "";
  try {
    changelog = await Bun.file(changelogPath).text();
  } catch {
    throw new ReleaseError(`cannot read ${changelogPath}`);
  }
  const notes = changelogEntry(changelog, version);
  if (notes === null) throw new ReleaseError(`${changelogPath} has no entry for version ${version}: add a "## ${version}" section with its changes first`);
  return { version, notes };
}

export interface ReleaseOptions {
  targets: readonly Target[];
  outDir: string;
  changelogPath: string;
  expectVersion?: string;
}

/**
 * Builds and packs every target into `outDir`; returns the file names of the archives that
 * SHA256SUMS lists (this run's, and this version's that an earlier run left for other targets).
 */
export async function release(o: ReleaseOptions): Promise<string[]> {
  const { version } = await versionNotes(o.changelogPath, o.expectVersion);
  const s = await stamp();
  if (s.commit.endsWith("-dirty")) console.warn(`release: uncommitted changes: the binaries say commit ${s.commit}, which no checkout reproduces`);
  mkdirSync(o.outDir, { recursive: true });
  const names = o.targets.map((t) => `${archiveName(version, t)}.tar.gz`);
  const kept: string[] = [];
  for (const e of readdirSync(o.outDir)) {
    if (!/^paxos-.*\.tar\.gz$/.test(e) && e !== "SHA256SUMS") continue;
    const ours = TARGETS.some((t) => e === `${archiveName(version, t)}.tar.gz`);
    if (ours && !names.includes(e)) {
      kept.push(e);
      console.warn(`release: kept ${e}: built by an earlier run, not by this one (it builds ${o.targets.join(", ")} only)`);
      continue;
    }
    if (e !== "SHA256SUMS" && !ours) console.warn(`release: removed ${e}: another version's`);
    rmSync(join(o.outDir, e)); // SHA256SUMS, and the archives this run replaces
  }
  const stage = mkdtempSync(join(o.outDir, ".stage-"));
  try {
    for (const target of o.targets) {
      const name = archiveName(version, target);
      await stageTarget(stage, name, s, target);
      await pack(stage, name, s.epochS, join(o.outDir, `${name}.tar.gz`));
      rmSync(join(stage, name), { recursive: true });
    }
  } catch (e) {
    for (const n of names) rmSync(join(o.outDir, n), { force: true }); // no partial release
    throw e;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const listed = [...names, ...kept].sort();
  const sums = await Promise.all(listed.map(async (n) => `${await sha256(join(o.outDir, n))}  ${n}\n`));
  await Bun.write(join(o.outDir, "SHA256SUMS"), sums.join(""));
  return listed;
}

function parseTargets(given: string[]): Target[] {
  if (given.length === 0) return [...TARGETS];
  const targets = given.map((t) => {
    const target = t === "host" ? hostTarget() : (TARGETS as readonly string[]).includes(t) ? (t as Target) : null;
    if (target === null) throw new ReleaseError(t === "host" ? `no target for this host (${process.platform}-${process.arch})` : `unknown target ${t}; targets: host, ${TARGETS.join(", ")}`);
    return target;
  });
  return [...new Set(targets)];
}

if (import.meta.main) {
  try {
    const { values } = parseArgs({
      args: Bun.argv.slice(2),
      options: {
        target: { type: "string", multiple: true, default: [] },
        out: { type: "string", default: join(ROOT, "dist/release") },
        changelog: { type: "string", default: join(ROOT, "CHANGELOG.md") },
        "expect-version": { type: "string" },
        "print-notes": { type: "boolean", default: false },
      },
    });
    if (values["print-notes"]) {
      process.stdout.write(`${(await versionNotes(values.changelog, values["expect-version"])).notes}\n`);
      process.exit(0);
    }
    const outDir = resolve(values.out);
    const names = await release({ targets: parseTargets(values.target), outDir, changelogPath: values.changelog, expectVersion: values["expect-version"] });
    for (const n of [...names, "SHA256SUMS"]) console.log(`${String(statSync(join(outDir, n)).size).padStart(10)}  ${join(outDir, n)}`);
  } catch (e) {
    const badArgs = String((e as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS");
    if (!(e instanceof ReleaseError) && !badArgs) throw e;
    console.error(`release: ${(e as Error).message}`);
    process.exit(1);
  }
}
