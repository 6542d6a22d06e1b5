/**
 * A role's Node built from the config: its group, the datagram key (inline or from a key file),
 * injected loss and the health that diagnoses a stall; and the random identities roles draw.
 */
import { readFileSync } from "node:fs";
import { ConfigError, type Config } from "../../config.ts";
import { authenticator } from "../../net/auth.ts";
import type { Role } from "../../protocol/messages.ts";
import { NONCE_MAX } from "../../protocol/wire-budget.ts";
import { Health, type Work } from "../health.ts";
import { Node, type NodeOptions } from "../node.ts";
import { GROUP_OF, type RoleName } from "../role-names.ts";
import type { RoleContext } from "./context.ts";

/** Catch-up answers (of acceptors, proposers and archiving learners) send at most this many datagrams. */
export const CATCHUP_DATAGRAMS_MAX = 64;

export interface NodeParts {
  readonly role: Role;
  readonly name: RoleName;
  readonly onEffects?: NodeOptions["onEffects"];
  readonly durable?: NodeOptions["durable"];
  readonly observe?: NodeOptions["observe"];
  /** The role's work, for the diagnosis of a stall (none: it never waits on others). */
  readonly work?: () => Work;
}

/** A Node for a role, with its config, key, loss injection and health. */
export function node(ctx: RoleContext, parts: NodeParts): Node {
  const key = authKey(ctx.config);
  const health = new Health(parts.name, ctx.config.acceptors, parts.work ?? (() => ({ waiting: 0, unit: "" })), 0);
  return new Node({
    ...(parts.observe ? { observe: parts.observe } : {}),
    ...(key ? { auth: authenticator(key, ctx.config.cluster) } : {}),
    config: ctx.config,
    group: GROUP_OF[parts.name],
    role: parts.role,
    log: ctx.log,
    loss: ctx.config.loss,
    seed: ctx.seed,
    health,
    ...(parts.onEffects ? { onEffects: parts.onEffects } : {}),
    ...(parts.durable ? { durable: parts.durable } : {}),
  });
}

/** The datagram key from the config (inline, or a file's bytes without a trailing newline). */
function authKey(config: Config): Uint8Array | undefined {
  if (config.auth.key !== null) return new TextEncoder().encode(config.auth.key);
  if (config.auth.keyFile === null) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(config.auth.keyFile);
  } catch (e) {
    throw new ConfigError([`auth.keyFile: cannot read ${config.auth.keyFile}: ${(e as Error).message}`]);
  }
  while (bytes.length > 0 && (bytes[bytes.length - 1] === 0x0a || bytes[bytes.length - 1] === 0x0d)) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length < 16) throw new ConfigError([`auth.keyFile: expected a key of at least 16 bytes in ${config.auth.keyFile}, found ${bytes.length}`]);
  return bytes;
}

/** A random proposer incarnation nonce or acceptor identity, in [1, NONCE_MAX]. */
export function randomIdentity(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return ((hi! % 0x10000) * 2 ** 32 + lo!) % NONCE_MAX + 1;
}
