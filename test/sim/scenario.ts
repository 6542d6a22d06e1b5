/**
 * What one simulated run does, drawn from its seed: the cluster, its load, and the faults of the
 * chaos period (after which the network heals and the run must finish within a bound).
 */
import type { Prng } from "../../src/prng.ts";

export interface Scenario {
  /** The mix of faults (most runs) or a family aimed at one kind of state (see FAMILIES). */
  readonly family: Family;
  readonly acceptors: number;
  readonly proposers: number;
  /** A second live process with proposer 1's id (an operator's mistake). */
  readonly twinProposer: boolean;
  /** When the twin starts (near 0: the two race from the start). */
  readonly twinStartMs: number;
  readonly learners: number;
  readonly clients: number;
  readonly valuesPerClient: number;
  readonly batchValuesMax: number;
  readonly pipelineWindow: number;
  readonly outstandingMax: number;
  readonly loss: number;
  readonly duplication: number;
  readonly delayMaxMs: number;
  /** Share of datagrams delayed long (up to LONG_DELAY_MAX_MS). */
  readonly longDelays: number;
  /** Authentic datagrams replayed per second of chaos (copies of ones sent up to seconds before). */
  readonly replaysPerSec: number;
  /** Partition episodes: a one-way cut, a two-way split, or the leader isolated with a minority. */
  readonly partitions: number;
  /** Each process's clock is off by up to this much (either way). */
  readonly clockSkewMs: number;
  /** Clock jumps (mostly backwards, up to seconds) during the chaos. */
  readonly clockJumps: number;
  /** Acceptors that crash for good (a minority). */
  readonly acceptorCrashes: number;
  /** Acceptors keep a log on a simulated disk and may restart from it. */
  readonly durable: boolean;
  /** Durable acceptors that crash and restart (their unsynced writes suffer disk faults). */
  readonly acceptorRestarts: number;
  /** Every acceptor crashes at about the same time, and all restart. */
  readonly wholeClusterRestart: boolean;
  readonly proposerCrashes: number;
  /** Proposers that crash and come back with empty memory under the same id. */
  readonly proposerRestarts: number;
  /** Learners that crash and come back with empty memory (a new incarnation). */
  readonly learnerRestarts: number;
  /** Clients that crash and come back as a new client (their undecided values may be lost). */
  readonly clientRestarts: number;
  /** Each restarting process restarts this many times. */
  readonly restartsEach: number;
  /**
   * Crashes strike at bad moments: a durable acceptor crashes between writing its records and
   * syncing them (its held replies die with it), a proposer right after it sent.
   */
  readonly crashAtBadMoments: boolean;
  readonly lateLearners: number;
  /** Faults last this long; then the network heals and the run must finish. */
  readonly chaosMs: number;
  /**
   * Client values arrive over this long (default: the chaos period). When shorter, the run may
   * end as soon as everything is delivered, faults or not (a load test under faults).
   */
  readonly loadMs?: number;
  /** Short takeover timeouts make proposers compete (and expose more interleavings). */
  readonly takeoverMs: number;
  readonly retransmitMs: number;
  /** Proposers' Hello period (a new proposer waits two for a leader before its first Phase 1). */
  readonly helloEveryMs: number;
  /** Instances acceptors (and proposers) keep below the decided prefix; small values trim. */
  readonly retainInstances: number;
  /**
   * Every learner keeps an archive of what it delivered (config learner.archive) and serves
   * other learners' Catchups from it: a learner behind what the acceptors retain must still get
   * everything, from a live learner whose archive has it.
   */
  readonly archives: boolean;
  /** Every datagram goes through the real wire codec (encode, then decode at each receiver). */
  readonly wire: boolean;
  /**
   * Fast-forward: the cluster starts with a history at instances [base, base + length) already
   * on the acceptors' disks, from an earlier life (some chosen, votes spread over rounds, holes),
   * and with bounds scaled down so that runs reach past them.
   */
  readonly history: HistoryScenario | undefined;
  /** The `stranded` family's events (see FAMILIES). */
  readonly stranded?: StrandedScenario;
  /** The `reconfig` family's configuration changes (see FAMILIES). */
  readonly reconfig?: ReconfigScenario;
  /** Events at set times, besides the random load and faults (the docs' diagrams: scripts/diagrams.ts). */
  readonly script?: readonly ScriptedEvent[];
}

/** Values handed to client `client` (1-based) in one step, or the proposer leading then crashed for good. */
export type ScriptedEvent =
  | { readonly atMs: number; readonly client: number; readonly values: readonly string[] }
  | { readonly atMs: number; readonly crashLeader: true };

/**
 * Instances decided that no live process can serve at once: at `crashAtMs` (after the load) the
 * leader (proposer 1) and acceptor 1 crash for good; until then the other proposers heard
 * nothing (`all`) or nothing of the leader (`leader`: its 2As, not the acceptors' 2Bs); late
 * learners start after the crash, with the cluster idle.
 */
export interface StrandedScenario {
  readonly crashAtMs: number;
  /** From here on acceptor 3 misses the leader's 2As. */
  readonly lastTwoAsFromMs: number;
  readonly standbyCut: "all" | "leader";
}

/**
 * An operator changes the acceptor set while the load runs: acceptors 1..acceptors start as the
 * initial configuration, `spares` more (ids above) start empty and join when a change names them.
 * The changes are submitted in order, each once the one before governs (as `paxos reconfigure`
 * waits), from `firstAtMs` on. `crashForGood`: an acceptor of the initial set crashes for good at
 * `crashAtMs` and the first change removes it (the runbook "Replacing a failed acceptor").
 */
export interface ReconfigScenario {
  /** α (small ones make Phase 1s and pipelines span two configurations often). */
  readonly alpha: number;
  readonly spares: number;
  readonly changes: readonly (readonly number[])[];
  readonly firstAtMs: number;
  readonly crashForGood: number | undefined;
  readonly crashAtMs: number;
  /** How likely the leader crashes (and restarts) right after each change is submitted. */
  readonly leaderCrashAfterChange: number;
}

export interface HistoryScenario {
  readonly base: number;
  readonly length: number;
  /** Acceptors persisted the decided prefix (false: an old log, or a lost hint). */
  readonly hint: boolean;
  readonly instancesAheadMax: number;
  readonly catchupInstancesMax: number;
}

export const LONG_DELAY_MAX_MS = 3000;

/**
 * Families of runs aimed at states the mix reaches too rarely:
 * - `durable-crashes`: durable acceptors crash again and again between writing and syncing
 *   (their replies held), while proposers with short timeouts contend and values keep coming:
 *   a reply that left before its record was durable is then lost with it (mutant
 *   send-before-persist).
 * - `stranded`: the leader and an acceptor crash for good after the load, the other proposers
 *   having missed the leader's 2As (or everything), and learners start late in the idle cluster:
 *   they must recover instances nobody but the acceptors' votes can serve, from accounts that
 *   prove them decided (the prefix a proposer knows, passed on by learners: mutant
 *   forget-decided-hint) or from a proposer that runs Phase 1 for a learner's hole (mutant
 *   ignore-seen-to).
 * - `archived`: acceptors retain a few instances only, learners keep archives, and some start
 *   late: they must get the whole sequence from another learner's archive.
 * - `reconfig`: the acceptor set changes through the log while values come and faults strike
 *   (replace one, grow by two, shrink by two, two changes in a row; a failed acceptor replaced;
 *   leaders crashing after proposing a change; durable acceptors restarting, the whole cluster
 *   too): every decision must have a majority of the configuration of its instance.
 */
export const FAMILIES = ["durable-crashes", "stranded", "archived", "reconfig"] as const;
export type Family = "mix" | (typeof FAMILIES)[number];

/** A run's scenario: the mix, or now and then (or always, when `only` names one) a family's. */
export function randomScenario(rng: Prng, only?: Family): Scenario {
  const mix = mixScenario(rng);
  const chosen = rng.chance(0.15);
  if (only === "mix" || (only === undefined && !chosen)) return mix;
  const family = only ?? rng.pick(FAMILIES);
  switch (family) {
    case "durable-crashes":
      return {
        ...mix,
        family,
        acceptors: rng.pick([3, 5]),
        twinProposer: false,
        durable: true,
        history: undefined,
        acceptorCrashes: 0,
        acceptorRestarts: rng.int(0, 3),
        restartsEach: rng.int(1, 3),
        crashAtBadMoments: true,
        wholeClusterRestart: rng.chance(0.7),
        // The leader dies or restarts, so that a new one runs Phase 1 over what the crashes left;
        // loss makes an acceptor miss 2As (a vote held by a bare majority, one of them lost).
        proposerCrashes: mix.proposers >= 2 ? 1 : 0,
        proposerRestarts: rng.int(1, 2),
        valuesPerClient: rng.int(6, 12),
        clients: rng.int(1, 3),
        outstandingMax: rng.pick([4, 100]),
        batchValuesMax: rng.pick([1, 2, 8]),
        pipelineWindow: rng.pick([2, 4, 16]),
        takeoverMs: rng.pick([20, 60]),
        retainInstances: 1_000_000,
        loss: 0.1 + rng.next() * 0.2,
      };
    case "stranded": {
      const loadMs = rng.int(50, 300);
      return {
        ...mix,
        family,
        acceptors: 3,
        proposers: rng.int(2, 3),
        twinProposer: false,
        learners: rng.int(1, 3),
        lateLearners: 1,
        clients: rng.int(1, 2),
        valuesPerClient: rng.int(2, 10),
        loadMs,
        chaosMs: loadMs + rng.int(400, 1500),
        loss: rng.chance(0.5) ? rng.next() * 0.05 : 0,
        duplication: 0,
        longDelays: 0,
        replaysPerSec: 0,
        partitions: 0,
        clockJumps: 0,
        acceptorCrashes: 0,
        acceptorRestarts: 0,
        wholeClusterRestart: false,
        proposerCrashes: 0,
        proposerRestarts: 0,
        learnerRestarts: 0,
        clientRestarts: 0,
        history: undefined,
        retainInstances: 1_000_000,
        stranded: { crashAtMs: loadMs + rng.int(20, 100), lastTwoAsFromMs: loadMs * rng.next(), standbyCut: rng.chance(0.5) ? "all" : "leader" },
      };
    }
    case "reconfig": {
      const reconfig = randomReconfig(rng, mix.acceptors === 5 ? 5 : 3);
      return {
        ...mix,
        family,
        acceptors: mix.acceptors === 5 ? 5 : 3,
        twinProposer: false,
        history: undefined,
        acceptorCrashes: 0,
        lateLearners: 0,
        retainInstances: 1_000_000,
        archives: false,
        // Leaders change (crashes, restarts, short takeovers) while changes are decided and
        // 2As get lost: a new leader's Phase 1 then spans instances of two configurations.
        proposers: rng.int(2, 3),
        proposerCrashes: rng.int(0, 1),
        proposerRestarts: rng.int(1, 2),
        takeoverMs: rng.pick([20, 60]),
        loss: 0.05 + rng.next() * 0.25,
        partitions: rng.int(0, 2),
        clients: rng.int(1, 3),
        valuesPerClient: rng.int(6, 16),
        chaosMs: rng.int(600, 2500),
        reconfig,
      };
    }
    case "archived": {
      const learners = rng.int(2, 3);
      return {
        ...mix,
        family,
        learners,
        lateLearners: rng.int(1, learners - 1),
        learnerRestarts: rng.chance(0.3) ? 1 : 0,
        valuesPerClient: rng.int(4, 12),
        batchValuesMax: rng.pick([1, 2]),
        retainInstances: rng.int(1, 8),
        archives: true,
      };
    }
  }
}

function mixScenario(rng: Prng): Scenario {
  const acceptors = rng.pick([3, 3, 5]);
  const proposers = rng.int(1, 3);
  const learners = rng.int(1, 3);
  const clients = rng.int(1, 3);
  const lossy = rng.chance(0.75);
  const durable = rng.chance(0.5);
  const history = rng.chance(0.1) ? randomHistory(rng) : undefined;
  const chaos = rng.chance(0.5); // the newer faults, in half of the runs
  // Now and then a storm of quick proposer restarts, clocks far apart and late datagrams: the
  // faults that once let a restarted proposer reuse its round.
  const storm = chaos && rng.chance(0.2);
  const twin = chaos && proposers >= 2 && rng.chance(0.15);
  const retainInstances = rng.chance(0.25) ? rng.int(1, 8) : 1_000_000;
  return {
    family: "mix",
    acceptors,
    proposers,
    twinProposer: twin,
    twinStartMs: twin && rng.chance(0.5) ? rng.pick([0, 0, 1, 5]) : rng.next() * 1000,
    learners,
    clients,
    valuesPerClient: rng.int(1, 12),
    batchValuesMax: rng.pick([1, 1, 2, 3, 8, 100]),
    pipelineWindow: rng.pick([1, 2, 4, 16]),
    outstandingMax: rng.pick([1, 4, 100]),
    loss: lossy ? rng.next() * 0.3 : 0,
    duplication: rng.chance(0.5) ? rng.next() * 0.2 : 0,
    delayMaxMs: rng.pick([0.5, 2, 10, 30]),
    longDelays: storm || (chaos && rng.chance(0.3)) ? rng.next() * 0.05 : 0,
    replaysPerSec: storm ? 100 : chaos && rng.chance(0.3) ? rng.pick([5, 20, 100]) : 0,
    partitions: chaos && rng.chance(0.3) ? rng.int(1, 3) : 0,
    clockSkewMs: storm ? 1_000_000 : chaos && rng.chance(0.3) ? rng.pick([50, 2000, 1_000_000]) : 0,
    clockJumps: chaos && rng.chance(0.2) ? rng.int(1, 3) : 0,
    acceptorCrashes: rng.int(0, Math.floor((acceptors - 1) / 2)),
    durable,
    acceptorRestarts: durable && rng.chance(0.5) ? rng.int(1, acceptors) : 0,
    wholeClusterRestart: durable && rng.chance(0.15),
    proposerCrashes: rng.int(0, proposers - 1),
    proposerRestarts: storm ? proposers : rng.chance(0.3) ? rng.int(1, proposers) : 0,
    learnerRestarts: chaos && rng.chance(0.15) ? rng.int(1, learners) : 0,
    clientRestarts: chaos && rng.chance(0.15) ? rng.int(1, clients) : 0,
    restartsEach: storm ? rng.int(2, 5) : chaos && rng.chance(0.3) ? rng.int(1, 3) : 1,
    crashAtBadMoments: durable && rng.chance(0.5),
    lateLearners: rng.int(0, learners - 1),
    chaosMs: rng.int(200, 2000),
    takeoverMs: rng.pick([20, 60, 120]),
    retransmitMs: rng.pick([10, 40]),
    helloEveryMs: rng.pick([10, 25, 50]),
    wire: rng.chance(0.125),
    retainInstances,
    archives: retainInstances < 1_000_000 && rng.chance(0.5),
    history,
  };
}

function randomHistory(rng: Prng): HistoryScenario {
  const instancesAheadMax = rng.pick([8, 16, 64]);
  return {
    base: rng.chance(0.5) ? rng.int(1, 1000) : rng.int(2 ** 20, 2 ** 46),
    length: instancesAheadMax * rng.int(1, 4) + rng.int(0, 8),
    hint: rng.chance(0.5),
    instancesAheadMax,
    catchupInstancesMax: rng.pick([4, 16, 64]),
  };
}

/** A sequence of changes from acceptors 1..n: each replaces one, grows by two or shrinks by two (never below 3), with fresh ids. */
function randomReconfig(rng: Prng, n: number): ReconfigScenario {
  let members = Array.from({ length: n }, (_, k) => k + 1);
  let nextId = n + 1;
  const crashForGood = rng.chance(0.4) ? rng.int(1, n) : undefined;
  const changes: number[][] = [];
  for (let k = rng.int(1, 3); k > 0; k--) {
    const op = changes.length === 0 && crashForGood !== undefined ? "replace" : rng.pick(["replace", "replace", "grow", "shrink"]);
    let next: number[];
    if (op === "grow" && members.length <= 5) next = [...members, nextId++, nextId++];
    else if (op === "shrink" && members.length >= 5) {
      const drop = new Set([rng.pick(members)]);
      while (drop.size < 2) drop.add(rng.pick(members));
      next = members.filter((m) => !drop.has(m));
    } else {
      const out = changes.length === 0 && crashForGood !== undefined ? crashForGood : rng.pick(members);
      next = [...members.filter((m) => m !== out), nextId++];
    }
    changes.push(next.sort((a, b) => a - b));
    members = next;
  }
  return { alpha: rng.pick([2, 4, 8, 16, 64, 256]), spares: nextId - n - 1, changes, firstAtMs: rng.int(0, 300), crashForGood, crashAtMs: rng.int(0, 200), leaderCrashAfterChange: rng.pick([0, 0.5, 1]) };
}
