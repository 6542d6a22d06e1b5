/**
 * What this program is: the version from package.json, plus the commit and build time that
 * scripts/build.ts embeds with `bun build --define`. Run from source (no build), the commit is
 * "unknown" and the build time "dev".
 */
import pkg from "../package.json" with { type: "json" };

// Replaced by string literals at build time; undeclared (typeof "undefined") when run from source.
declare const PAXOS_BUILD_COMMIT: string | undefined;
declare const PAXOS_BUILD_TIME: string | undefined;

export const VERSION: string = pkg.version;

export interface BuildInfo {
  readonly version: string;
  /** Git commit (12 hex digits, "-dirty" when the tree had changes), or "unknown". */
  readonly commit: string;
  /** The commit's time in UTC (ISO 8601, so that a rebuild gives the same bytes), or "dev". */
  readonly built: string;
}

export const BUILD: BuildInfo = {
  version: VERSION,
  commit: typeof PAXOS_BUILD_COMMIT === "string" ? PAXOS_BUILD_COMMIT : "unknown",
  built: typeof PAXOS_BUILD_TIME === "string" ? PAXOS_BUILD_TIME : "dev",
};

/** What `paxos --version` prints. */
export const VERSION_LINE = `paxos ${BUILD.version} (commit ${BUILD.commit}, built ${BUILD.built})`;
