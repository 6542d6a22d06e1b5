/**
 * `bun bench/storage.ts`: the acceptor log (append-only file, one fsync per group) against
 * bun:sqlite in WAL mode (one transaction per group, synchronous=FULL), on the same records.
 * The figures that chose the acceptor's storage; see BENCHMARKS.md.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Batch, linesOf } from "../src/protocol/batch.ts";
import type { PersistRecord } from "../src/protocol/messages.ts";
import { AcceptorLog } from "../src/storage/acceptor-log.ts";

const GROUPS = 2000;
const PER_GROUP = 8;
const VALUES_PER_VOTE = 16;
const data = new Uint8Array(64).fill(120);

function group(g: number): PersistRecord[] {
  const records: PersistRecord[] = [{ kind: "promise", rnd: 1001, owner: 1 }];
  for (let k = 0; k < PER_GROUP; k++) {
    const inst = g * PER_GROUP + k;
    const lines = linesOf(Array.from({ length: VALUES_PER_VOTE }, () => data));
    records.push({ kind: "vote", vote: { inst, vRnd: 1001, vVal: Batch.ofRuns([{ client: 1, first: inst * VALUES_PER_VOTE, floor: 0, count: VALUES_PER_VOTE, lines }]) } });
  }
  return records;
}

function timeIt(name: string, run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "paxos-storage-bench-"));
  const t0 = performance.now();
  run(dir);
  const s = (performance.now() - t0) / 1000;
  const votes = GROUPS * PER_GROUP;
  console.log(`${name.padEnd(28)} ${(GROUPS / s).toFixed(0).padStart(6)} commits/s  ${(votes / s).toFixed(0).padStart(7)} votes/s  ${((votes * VALUES_PER_VOTE) / s).toFixed(0).padStart(8)} values/s`);
  rmSync(dir, { recursive: true, force: true });
}

const groups = Array.from({ length: GROUPS }, (_, g) => group(g));
for (const g of groups) for (const r of g) if (r.kind === "vote") r.vote.vVal.packed; // pack once, outside the timing

timeIt("append-only log + fdatasync", (dir) => {
  const { log } = AcceptorLog.open(dir, 1, 1, { create: true, newIdent: () => 1 });
  for (const g of groups) {
    log.append(g);
    log.commit();
  }
  log.close();
});

timeIt("bun:sqlite WAL, sync FULL", (dir) => {
  const db = new Database(join(dir, "acceptor.db"));
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  db.exec("CREATE TABLE votes (inst INTEGER PRIMARY KEY, vrnd INTEGER, vval BLOB); CREATE TABLE promise (id INTEGER PRIMARY KEY, rnd INTEGER);");
  const vote = db.prepare("INSERT OR REPLACE INTO votes VALUES (?, ?, ?)");
  const promise = db.prepare("INSERT OR REPLACE INTO promise VALUES (1, ?)");
  const commit = db.transaction((g: PersistRecord[]) => {
    for (const r of g) {
      if (r.kind === "promise") promise.run(r.rnd);
      else if (r.kind === "vote") vote.run(r.vote.inst, r.vote.vRnd, r.vote.vVal.packed);
    }
  });
  for (const g of groups) commit(g);
  db.close();
});
