import type { Message } from "../../src/protocol/messages.ts";
import { NotifyWriter, reportList } from "../../src/protocol/notify.ts";
import { b, val, NONCE } from "../protocol/helpers.ts";

/** One valid message of each type, with edge-case ids and bytes. */
const values = [val(1, 0, "a"), val(1, 1, "b"), val(4294967295, Number.MAX_SAFE_INTEGER, ""), { ...val(3, 1_732_690_000_123_000, "é\t\u0000x"), floor: 1_732_690_000_122_000 }];
const batch = b(...values);
const notify = new NotifyWriter(64);
notify.add(0, 1, 0, 2);
notify.add(2 ** 47, 4294967295, Number.MAX_SAFE_INTEGER, 1);
export const SAMPLES: Message[] = [
  { t: "submit", runs: batch, via: 0 },
  { t: "ack", ranges: [1, 0, 1, 7, 1_732_690_000_123_000, 1] },
  { t: "1a", cRnd: 1001, nonce: NONCE, from: 0, decidedBelow: 0, acc: 0 },
  { t: "1b", acc: 2, ident: 2, rnd: 1001, nonce: NONCE, from: 3, to: 9, done: false, votes: [{ inst: 3, vRnd: 901, vVal: batch }, { inst: 8, vRnd: 1, vVal: b() }], decidedBelow: 2 },
  { t: "nack", acc: 3, ident: 3, rnd: 2 ** 40, cRnd: 0, nonce: NONCE },
  { t: "2a", cRnd: 5005, nonce: NONCE, proposals: [{ inst: 0, cVal: batch }, { inst: 1, cVal: b() }], decidedBelow: 7, notify: notify.finish(), report: reportList([1, 3, 255]) },
  { t: "2b", acc: 1, ident: 1, vRnd: 5005, nonce: NONCE, insts: [12, 13, 11, 2 ** 47], decidedBelow: 9, notify: notify.finish() },
  { t: "catchup", from: 10, to: 4106, decidedBelow: 0, seenTo: 0 },
  { t: "decision", decided: [{ inst: 7, cVal: batch }], decidedBelow: 2 ** 47 },
  { t: "trimmed", acc: 2, ident: 2, below: 1000 },
  { t: "hello", id: 999, nonce: NONCE, leading: false, startedMs: 2 ** 40 },
];
