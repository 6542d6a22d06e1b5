/**
 * The limits of process ids and the numbers made from them, in one place, because they are
 * coupled: a proposer id is the low part of its rounds, a client id the low bits of its client
 * number on the wire, and the command line accepts one id range for every role.
 * test/protocol/id-limits.test.ts holds the couplings; the module refuses to load when one breaks.
 */
import { assert } from "./assert.ts";

/** Rounds are counter × ROUND_STRIDE + proposer id: unique per proposer id, and increasing. */
export const ROUND_STRIDE = 1000;
/** A proposer id is its rounds' remainder modulo ROUND_STRIDE. */
export const PROPOSER_ID_MAX = ROUND_STRIDE - 1;

/**
 * The client number values carry: a run's CLIENT_RUN_BITS random bits above the --id's
 * CLIENT_ID_BITS bits, so that each run of a client is a new identity and its seqs can start
 * from 0 (small numbers are cheap to send and to deduplicate) without colliding with an earlier
 * run's. Two runs of one id collide with probability 2^-CLIENT_RUN_BITS.
 */
export const CLIENT_ID_BITS = 10;
export const CLIENT_RUN_BITS = 22;
/** Largest client number on the wire (the codec refuses larger ones). */
export const CLIENT_NUMBER_MAX = 2 ** (CLIENT_ID_BITS + CLIENT_RUN_BITS) - 1;

/** Acceptors per cluster, at most (config `acceptors`); acceptor ids are 1 to that count. */
export const ACCEPTORS_MAX = 255;
/** Acceptor 0 would be taken for "every acceptor" in a 1A (see Phase1A.acc). */
export const ACCEPTOR_ID_MIN = 1;

/**
 * The --id every role accepts: 0 to ROLE_ID_MAX (acceptors: ACCEPTOR_ID_MIN to their count in
 * the config). It must stay a valid proposer id and fit a client number's id bits.
 */
export const ROLE_ID_MAX = 999;

assert(ROLE_ID_MAX <= PROPOSER_ID_MAX, "every --id is a valid proposer id (below ROUND_STRIDE)");
assert(ROLE_ID_MAX < 2 ** CLIENT_ID_BITS, "every --id fits the id bits of a client number");
assert(ACCEPTORS_MAX <= ROLE_ID_MAX, "every acceptor id is a valid --id");
assert(CLIENT_NUMBER_MAX <= 0xffff_ffff, "a client number is an unsigned 32-bit integer");

/** The client number of one run of client `id`; `random` in [0, 1) picks the run bits. */
export function clientNumber(id: number, random: number): number {
  assert(Number.isInteger(id) && id >= 0 && id < 2 ** CLIENT_ID_BITS, `a client id is in [0, ${2 ** CLIENT_ID_BITS})`);
  assert(random >= 0 && random < 1, "random is in [0, 1)");
  return Math.floor(random * 2 ** CLIENT_RUN_BITS) * 2 ** CLIENT_ID_BITS + id;
}

/** The --id part of a client number. */
export const clientIdOf = (clientNumber: number): number => clientNumber % 2 ** CLIENT_ID_BITS;
