/**
 * The release as a user gets it: `bun run release` for this host only (all four targets take
 * ~40 s; the same code packs each), the sums checked with sha256sum, the archive unpacked into an
 * empty directory and run there with neither Bun nor node_modules in reach.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { hostTarget } from "../../scripts/build.ts";
import { changelogEntry } from "../../scripts/release.ts";
import { Cluster, waitFor } from "../cluster/harness.ts";

// Unpacking and comparing 50 MB archives takes seconds on a loaded machine (the default is 5 s).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "paxos-release-"));
const outs = [join(scratch, "out-1"), join(scratch, "out-2")];
const unpacked = join(scratch, "unpacked");
const emptyBin = join(scratch, "empty-bin");
const host = hostTarget();
const archive = `paxos-${pkg.version}-${host}.tar.gz`;
const top = join(unpacked, `paxos-${pkg.version}-${host}`);
/** No Bun, no node, nothing: the binary must need nothing from the PATH. */
const bare = { PATH: emptyBin, HOME: scratch, TZ: "UTC", LANG: "C" };

function sh(cmd: string[], cwd: string, env: Record<string, string> = { ...process.env, TZ: "UTC", LANG: "C" } as Record<string, string>) {
  const r = Bun.spawnSync(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

async function releaseTo(out: string, ...args: string[]) {
  const p = Bun.spawn([process.execPath, "scripts/release.ts", "--out", out, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();

/** The commit the binary must name, and its time, straight from git. */
function headCommit(): { hash: string; iso: string } {
  const [hash, time] = sh(["git", "log", "-1", "--format=%H %ct"], ROOT).out.trim().split(" ");
  return { hash: hash!.slice(0, 12), iso: new Date(Number(time) * 1000).toISOString().replace(".000Z", "Z") };
}

beforeAll(async () => {
  expect(host).not.toBeNull();
  mkdirSync(emptyBin);
  // Two packagings of one commit, side by side.
  const runs = await Promise.all(outs.map((o) => releaseTo(o, "--target", "host")));
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  mkdirSync(unpacked);
  expect(readdirSync(unpacked)).toEqual([]);
  expect(sh(["tar", "-xzf", join(outs[0]!, archive), "-C", unpacked], scratch).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("release", () => {
  test("the host's archive: sums check out, fixed owners, times and modes, the listed files", () => {
    expect(readdirSync(outs[0]!).sort()).toEqual(["SHA256SUMS", archive]);
    const check = sh(["sha256sum", "-c", "--ignore-missing", "SHA256SUMS"], outs[0]!);
    expect(check.code, check.err).toBe(0);
    expect(check.out).toBe(`${archive}: OK\n`);

    const { iso } = headCommit();
    const listing = sh(["tar", "-tvzf", archive, "--numeric-owner", "--full-time"], outs[0]!).out.trim().split("\n");
    const time = iso.replace("T", " ").replace("Z", "");
    const names = listing.map((l) => l.split(/\s+/)[5]!);
    expect(names).toEqual([...names].sort()); // tar --sort=name: no dependence on directory order
    for (const line of listing) {
      const [mode, owner, , day, clock, name] = line.split(/\s+/);
      expect(owner).toBe("0/0");
      expect(`${day} ${clock}`).toBe(time);
      expect(mode).toBe(name!.endsWith("/") ? "drwxr-xr-x" : name!.endsWith("/paxos") ? "-rwxr-xr-x" : "-rw-r--r--");
    }
    expect(readdirSync(unpacked)).toEqual([`paxos-${pkg.version}-${host}`]);
    expect(files(top)).toEqual([
      "BENCHMARKS.md", "CHANGELOG.md", "DESIGN.md", "LICENSE", "OPERATIONS.md", "README.md",
      "deploy/paxos.example.yaml", "deploy/systemd/paxos-restart.conf", "deploy/systemd/paxos@.service", "docs/demo-ui.png",
      "docs/phase1.svg", "docs/phase2.svg", "docs/synod.svg", "paxos",
    ]);
    for (const f of ["LICENSE", "README.md", "OPERATIONS.md", "deploy/paxos.example.yaml"]) {
      expect(Bun.spawnSync(["cmp", join(ROOT, f), join(top, f)]).exitCode).toBe(0);
    }
    expect(sh(["head", "-1", join(top, "LICENSE")], scratch).out).toBe("MIT License\n");
  });

  // Issue 20: the archive lacked files its README links (BENCHMARKS.md, docs/).
  test("every relative link of the archive's documents leads to a file in the archive", () => {
    const docs = files(top).filter((f) => f.endsWith(".md"));
    let links = 0;
    for (const doc of docs) {
      const text = readFileSync(join(top, doc), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
        links++;
        expect(existsSync(join(top, dirname(doc), target!)), `${doc} links ${target}`).toBe(true);
      }
    }
    expect(links).toBeGreaterThan(10);
  });

  // Issue 20: `--target host` deleted the archives of the other targets, silently.
  test("a release for one target keeps this version's archives of the others, lists them in SHA256SUMS, and says so", async () => {
    const out = join(scratch, "partial");
    mkdirSync(out);
    const other = host === "linux-x64" ? "darwin-arm64" : "linux-x64";
    const kept = `paxos-${pkg.version}-${other}.tar.gz`;
    await Bun.write(join(out, kept), "an archive of an earlier run");
    await Bun.write(join(out, "paxos-0.0.1-linux-x64.tar.gz"), "another version's");
    const r = await releaseTo(out, "--target", "host");
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => !f.startsWith(".")).sort()).toEqual(["SHA256SUMS", archive, kept].sort());
    expect(await Bun.file(join(out, kept)).text()).toBe("an archive of an earlier run");
    const sums = sh(["sha256sum", "-c", "SHA256SUMS"], out);
    expect(sums.code, sums.err).toBe(0);
    expect(sums.out.trim().split("\n").sort()).toEqual([`${archive}: OK`, `${kept}: OK`].sort());
    expect(r.stderr).toContain(`release: kept ${kept}: built by an earlier run, not by this one (it builds ${host} only)`);
    expect(r.stderr).toContain("release: removed paxos-0.0.1-linux-x64.tar.gz: another version's");
  });

  test("the unpacked binary runs with no Bun and no node_modules in reach: --version, config", () => {
    expect(Bun.which("bun", { PATH: bare.PATH })).toBeNull();
    for (let d = top; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, "node_modules"))).toBe(false);
    const { hash, iso } = headCommit();
    const version = sh([join(top, "paxos"), "--version"], top, bare);
    expect(version.code, version.err).toBe(0);
    expect(version.out).toMatch(new RegExp(`^paxos ${pkg.version.replaceAll(".", "\\.")} \\(commit ${hash}(-dirty)?, built ${iso}\\)\\n$`));
    const config = sh([join(top, "paxos"), "config"], top, bare);
    expect(config.code, config.err).toBe(0);
    expect(config.out).toContain("acceptors: 3");
  });

  test("paxos_build_info of the unpacked binary says what --version says", async () => {
    const c = new Cluster();
    const acceptor = Bun.spawn([join(top, "paxos"), "--role", "acceptor", "--id", "1", "--config", c.configPath, "--metrics-listen", "127.0.0.1:0"], {
      cwd: top,
      env: bare,
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      let stderr = "";
      void (async () => {
        for await (const chunk of acceptor.stderr) stderr += new TextDecoder().decode(chunk);
      })();
      await waitFor(() => /metrics at (\S+)/.test(stderr), 10_000, "the metrics address");
      const text = await (await fetch(/metrics at (\S+)/.exec(stderr)![1]!)).text();
      const line = /^paxos_build_info\{role="acceptor",id="1",version="([^"]+)",commit="([^"]+)",built="([^"]+)"\} 1$/m.exec(text);
      expect(line).not.toBeNull();
      const [, version, commit, built] = line!;
      expect(sh([join(top, "paxos"), "--version"], top, bare).out).toBe(`paxos ${version} (commit ${commit}, built ${built})\n`);
    } finally {
      acceptor.kill("SIGTERM");
      await acceptor.exited;
    }
  });

  test("two packagings of one commit give the same archives, byte for byte", async () => {
    expect(readdirSync(outs[1]!).sort()).toEqual(readdirSync(outs[0]!).sort());
    for (const f of readdirSync(outs[0]!)) {
      const [a, b] = await Promise.all(outs.map((o) => Bun.file(join(o, f)).bytes()));
      expect(statSync(join(outs[1]!, f)).size).toBe(a!.length);
      expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(true);
    }
  });

  test("a version without a CHANGELOG entry is refused before anything is built", async () => {
    const changelog = join(scratch, "CHANGELOG-without.md");
    await Bun.write(changelog, `# Changelog\n\n## ${pkg.version}-rc.1\n- a candidate\n\n## 0.0.1\n- older\n`);
    const out = join(scratch, "refused");
    const r = await releaseTo(out, "--target", "host", "--changelog", changelog);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`release: ${changelog} has no entry for version ${pkg.version}: add a "## ${pkg.version}" section with its changes first\n`);
    expect(existsSync(out)).toBe(false);

    const tag = await releaseTo(out, "--target", "host", "--expect-version", "99.0.0");
    expect(tag.code).toBe(1);
    expect(tag.stderr).toBe(`release: package.json says version ${pkg.version}, expected 99.0.0 (tag and package.json must agree)\n`);
  });

  test("changelog entries: the exact version, with some text", async () => {
    const entry = changelogEntry(await Bun.file(join(ROOT, "CHANGELOG.md")).text(), pkg.version);
    expect(entry).not.toBeNull();
    const notes = sh([process.execPath, "scripts/release.ts", "--print-notes"], ROOT); // the release notes CI publishes
    expect(notes.code, notes.err).toBe(0);
    expect(notes.out).toBe(`${entry}\n`);
    const log = "# Changelog\n\n## [1.2.0] - 2026-12-01\n- new\n\n## 1.1.0\n\n## v1.0.0 (2026-10-01)\n- first\n";
    expect(changelogEntry(log, "1.2.0")).toBe("- new");
    expect(changelogEntry(log, "1.0.0")).toBe("- first");
    expect(changelogEntry(log, "1.1.0")).toBeNull(); // a heading with nothing under it
    expect(changelogEntry(log, "1.2")).toBeNull();
    expect(changelogEntry(log, "2.0.0")).toBeNull();
    expect(changelogEntry("## 11.2.0\n- x\n", "1.2.0")).toBeNull();
    expect(changelogEntry("## 1.2.0-rc.1\n- x\n", "1.2.0")).toBeNull();
  });
});
