import { describe, expect, test } from "bun:test";
import { Proposer, nextRound } from "../../src/protocol/proposer.ts";
import {
  ACCEPTOR_ID_MIN,
  ACCEPTORS_MAX,
  CLIENT_ID_BITS,
  CLIENT_NUMBER_MAX,
  CLIENT_RUN_BITS,
  clientIdOf,
  clientNumber,
  PROPOSER_ID_MAX,
  ROLE_ID_MAX,
  ROUND_STRIDE,
} from "../../src/protocol/id-limits.ts";
import { ROUND_MAX } from "../../src/protocol/wire-budget.ts";
import { proposerOptions } from "./helpers.ts";

describe("id limits", () => {
  test("every --id is a proposer id (below ROUND_STRIDE) and fits a client number's id bits", () => {
    expect(ROLE_ID_MAX).toBeLessThan(ROUND_STRIDE);
    expect(ROLE_ID_MAX).toBeLessThanOrEqual(PROPOSER_ID_MAX);
    expect(ROLE_ID_MAX).toBeLessThan(2 ** CLIENT_ID_BITS);
    expect(ACCEPTOR_ID_MIN).toBe(1);
    expect(ACCEPTORS_MAX).toBeLessThanOrEqual(ROLE_ID_MAX);
  });

  test("a proposer of the largest id makes rounds of its own, and one beyond is refused", () => {
    const p = new Proposer(proposerOptions({ id: ROLE_ID_MAX }));
    expect(p.opts.id).toBe(ROLE_ID_MAX);
    for (const highest of [0, 5 * ROUND_STRIDE + 3, 17 * ROUND_STRIDE + PROPOSER_ID_MAX]) {
      expect(nextRound(highest, PROPOSER_ID_MAX) % ROUND_STRIDE).toBe(PROPOSER_ID_MAX);
      expect(nextRound(highest, PROPOSER_ID_MAX)).toBeGreaterThan(highest);
    }
    expect(() => new Proposer(proposerOptions({ id: PROPOSER_ID_MAX + 1 }))).toThrow();
  });

  test("rounds from the clock stay below ROUND_MAX until 2112", () => {
    expect(Date.UTC(2112, 0, 1) * ROUND_STRIDE + PROPOSER_ID_MAX).toBeLessThan(ROUND_MAX);
  });

  test("client numbers: the id in the low bits, the run above, all within what the codec accepts", () => {
    expect(CLIENT_NUMBER_MAX).toBe(2 ** (CLIENT_ID_BITS + CLIENT_RUN_BITS) - 1);
    for (const id of [0, 1, ROLE_ID_MAX, 2 ** CLIENT_ID_BITS - 1]) {
      for (const random of [0, 0.5, 1 - 2 ** -53]) {
        const n = clientNumber(id, random);
        expect(Number.isSafeInteger(n) && n >= 0 && n <= CLIENT_NUMBER_MAX).toBe(true);
        expect(clientIdOf(n)).toBe(id);
      }
    }
    expect(clientNumber(ROLE_ID_MAX, 1 - 2 ** -53)).toBe(CLIENT_NUMBER_MAX - (2 ** CLIENT_ID_BITS - 1 - ROLE_ID_MAX));
    expect(clientNumber(5, 0.5)).not.toBe(clientNumber(5, 0.25)); // runs differ
    expect(() => clientNumber(2 ** CLIENT_ID_BITS, 0)).toThrow();
    expect(() => clientNumber(1, 1)).toThrow();
  });
});
