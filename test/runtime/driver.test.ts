/** The driver's order of effects (persist, then send after the sync, then schedule), its turns and its invariant checks. */
import { ConfigHistory } from "../../src/protocol/configuration.ts";
import { NO_STAMP } from "../../src/net/codec.ts";
import { expect, test } from "bun:test";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import { assert, InvariantError } from "../../src/protocol/assert.ts";
import { Effects, type Group, type Message, type PersistRecord, type Role } from "../../src/protocol/messages.ts";
import { Driver, type DriverHost } from "../../src/runtime/driver.ts";
import { acceptorOptions, b, oneA, twoA, val } from "../protocol/helpers.ts";

function gatheringAcceptor() {
  const log: string[] = [];
  const acceptor = new Acceptor(acceptorOptions(1, { catchupDatagramsMax: 4, retainInstances: 1000, gather: true }));
  let commitDue = false;
  const driver = new Driver(
    acceptor,
    {
      now: () => 0,
      send: (to: Group, msg: Message) => log.push(`send ${msg.t} to ${to}${msg.t === "2b" ? ` [${msg.insts.join(",")}]` : ""}`),
      scheduleCommit: () => {
        log.push("commit due");
        commitDue = true;
      },
      scheduleEndTurn: () => log.push("end of turn due"),
      scheduleWake: () => {},
    },
    { append: (records: readonly PersistRecord[]) => log.push(`append ${records.map((r) => r.kind).join(",")}`), commit: () => log.push("sync") },
  );
  return { log, driver, commitDue: () => commitDue };
}

const twoAOf = (inst: number) => twoA(1001, [{ inst, cVal: b(val(1, inst)) }]);

test("a gathering acceptor sends one 2B for a burst of 2As, and only after their votes are synced", () => {
  const { log, driver, commitDue } = gatheringAcceptor();
  driver.step({ kind: "msg", msg: oneA(1001) });
  driver.endTurn();
  driver.commit(); // the promise is durable, its 1B goes
  log.length = 0;
  driver.step({ kind: "msg", msg: twoAOf(0) });
  driver.step({ kind: "msg", msg: twoAOf(1) });
  // The end of the turn is asked for before the turn's first step, so it comes before the commit that step asks for.
  expect(log).toEqual(["end of turn due", "append vote", "commit due", "append vote"]); // nothing sent yet
  driver.endTurn(); // the end of the event-loop turn comes before the sync
  expect(log.slice(4)).toEqual([]); // the 2B waits for the sync of the votes it reports
  expect(commitDue()).toBe(true);
  driver.commit();
  expect(log.slice(4)).toEqual(["sync", "send 2b to learners [0,1]", "send 2b to proposers [0,1]"]);
});

/** A role whose state is one number; its invariant says the number stays below `max`. */
class Counter implements Role {
  n = 0;
  flushes = 0;
  checks = 0;
  constructor(readonly max = Infinity) {}
  step(): Effects {
    this.n++;
    const fx = new Effects();
    fx.send("learners", { t: "decision", decided: [], decidedBelow: this.n });
    return fx;
  }
  flush(): Effects {
    this.flushes++;
    return new Effects();
  }
  stamp() {
    return NO_STAMP;
  }
  readonly config = new ConfigHistory(3);
  invariants(): void {
    this.checks++;
    assert(this.n < this.max, "a counter stays below its max");
  }
}

function counterDriver(role: Counter, invariantsEverySteps?: number) {
  const sent: number[] = [];
  let endsDue = 0;
  const host: DriverHost = {
    now: () => 0,
    send: (_to, msg) => sent.push((msg as { decidedBelow: number }).decidedBelow),
    scheduleCommit: () => {},
    scheduleEndTurn: () => endsDue++,
    scheduleWake: () => {},
  };
  const driver = new Driver(role, host, undefined, undefined, invariantsEverySteps);
  return { driver, sent, endsDue: () => endsDue };
}

test("a turn: its first step asks for its end once; the end flushes the role once", () => {
  const role = new Counter();
  const { driver, endsDue } = counterDriver(role);
  driver.step({ kind: "tick" });
  driver.step({ kind: "tick" });
  expect([endsDue(), role.flushes]).toEqual([1, 0]);
  driver.endTurn();
  driver.endTurn(); // no turn open: nothing
  expect([endsDue(), role.flushes]).toEqual([1, 1]);
  driver.step({ kind: "tick" });
  expect(endsDue()).toBe(2);
});

test("invariants are checked after every step and flush by default, before the step's effects are carried out", () => {
  const role = new Counter(3);
  const { driver, sent } = counterDriver(role);
  driver.step({ kind: "tick" });
  driver.step({ kind: "tick" });
  driver.endTurn();
  expect(role.checks).toBe(3);
  expect(() => driver.step({ kind: "tick" })).toThrow(new InvariantError("a counter stays below its max"));
  expect(sent).toEqual([1, 2]); // the broken step's Decision never left
});

test("sampled invariants: the first step, then every n-th; 0 never", () => {
  const role = new Counter();
  const { driver } = counterDriver(role, 4);
  for (let k = 0; k < 9; k++) driver.step({ kind: "tick" });
  expect(role.checks).toBe(3); // steps 1, 5 and 9
  const unchecked = new Counter(0);
  const off = counterDriver(unchecked, 0).driver;
  off.step({ kind: "tick" });
  expect(unchecked.checks).toBe(0);
});
