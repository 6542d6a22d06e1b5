/** The driver's order of effects: persist, then send (after the sync), then schedule. */
import { NO_NOTIFY, REPORT_ALL } from "../../src/protocol/notify.ts";
import { expect, test } from "bun:test";
import { Acceptor } from "../../src/protocol/acceptor.ts";
import type { Group, Message, PersistRecord } from "../../src/protocol/messages.ts";
import { Driver } from "../../src/runtime/driver.ts";
import { b, NONCE, val } from "../protocol/helpers.ts";

function gatheringAcceptor() {
  const log: string[] = [];
  const acceptor = new Acceptor({ id: 1, ident: 1, datagramBytesMax: 1400, catchupDatagramsMax: 4, retainInstances: 1000, gather: true });
  let commitDue = false;
  const driver = new Driver(
    acceptor,
    {
      now: () => 0,
      send: (to: Group, msg: Message) => log.push(`send ${msg.t} to ${to}${msg.t === "2b" ? ` [${msg.insts.join(",")}]` : ""}`),
      scheduleCommit: () => (commitDue = true),
      scheduleWake: () => {},
    },
    { append: (records: readonly PersistRecord[]) => log.push(`append ${records.map((r) => r.kind).join(",")}`), commit: () => log.push("sync") },
  );
  return { log, driver, commitDue: () => commitDue };
}

const twoA = (inst: number) => ({ t: "2a", cRnd: 1001, nonce: NONCE, proposals: [{ inst, cVal: b(val(1, inst)) }], decidedBelow: 0, notify: NO_NOTIFY, report: REPORT_ALL }) as const;

test("a gathering acceptor sends one 2B for a burst of 2As, and only after their votes are synced", () => {
  const { log, driver, commitDue } = gatheringAcceptor();
  driver.step({ kind: "msg", msg: { t: "1a", cRnd: 1001, nonce: NONCE, from: 0, decidedBelow: 0, acc: 0 } });
  driver.commit(); // the promise is durable, its 1B goes
  log.length = 0;
  driver.step({ kind: "msg", msg: twoA(0) });
  driver.step({ kind: "msg", msg: twoA(1) });
  expect(log).toEqual(["append vote", "append vote"]); // nothing sent yet
  driver.endTurn(); // the end of the event-loop turn comes before the sync
  expect(log).toEqual(["append vote", "append vote"]); // the 2B waits for the sync of the votes it reports
  expect(commitDue()).toBe(true);
  driver.commit();
  expect(log).toEqual(["append vote", "append vote", "sync", "send 2b to learners [0,1]", "send 2b to proposers [0,1]"]);
});
