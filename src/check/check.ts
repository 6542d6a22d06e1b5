/**
 * The specification's three checks on a run's logs, as pure functions over lines:
 *   Total order — every learner's sequence is a prefix of the longest; complete ones are identical.
 *   Integrity   — learners deliver only proposed values, none more often than it was proposed.
 *   Agreement   — every proposed value is learned by every learner.
 * Values are compared as lines; equal lines submitted twice are two values.
 */

export interface NamedLines {
  readonly name: string;
  readonly lines: readonly string[];
}

export interface CheckResult {
  readonly property: "Total order" | "Integrity" | "Agreement";
  readonly ok: boolean;
  /** The first offending line, or what was checked when OK. */
  readonly detail: string;
}

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

export function checkTotalOrder(learned: readonly NamedLines[]): CheckResult {
  const property = "Total order";
  if (learned.length === 0) return { property, ok: true, detail: "no learner outputs" };
  const longest = learned.reduce((a, b) => (b.lines.length > a.lines.length ? b : a));
  for (const l of learned) {
    for (let i = 0; i < l.lines.length; i++) {
      if (l.lines[i] !== longest.lines[i]) {
        return {
          property,
          ok: false,
          detail: `${l.name} line ${i + 1}: ${show(l.lines[i]!)}, but ${longest.name} line ${i + 1}: ${show(longest.lines[i]!)}`,
        };
      }
    }
  }
  return { property, ok: true, detail: `${learned.length} learner(s) agree on the order of ${longest.lines.length} values` };
}

function countLines(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

export function checkIntegrity(proposed: readonly NamedLines[], learned: readonly NamedLines[]): CheckResult {
  const property = "Integrity";
  const allowed = countLines(proposed.flatMap((p) => p.lines));
  for (const l of learned) {
    const seen = new Map<string, number>();
    for (let i = 0; i < l.lines.length; i++) {
      const v = l.lines[i]!;
      const n = (seen.get(v) ?? 0) + 1;
      seen.set(v, n);
      const max = allowed.get(v) ?? 0;
      if (max === 0) return { property, ok: false, detail: `${l.name} line ${i + 1}: ${show(v)} was never proposed` };
      if (n > max) {
        return { property, ok: false, detail: `${l.name} line ${i + 1}: ${show(v)} learned ${n} times, proposed ${max} time(s)` };
      }
    }
  }
  return { property, ok: true, detail: `every learned value was proposed, none more often than proposed` };
}

export function checkAgreement(proposed: readonly NamedLines[], learned: readonly NamedLines[]): CheckResult {
  const property = "Agreement";
  if (learned.length === 0) return { property, ok: true, detail: "no learner outputs" };
  const total = proposed.reduce((n, p) => n + p.lines.length, 0);
  for (const l of learned) {
    const have = countLines(l.lines);
    for (const p of proposed) {
      for (let i = 0; i < p.lines.length; i++) {
        const v = p.lines[i]!;
        const n = have.get(v) ?? 0;
        if (n === 0) {
          return { property, ok: false, detail: `${l.name}: ${show(v)} (${p.name} line ${i + 1}) was never learned (${l.lines.length} of ${total} values learned)` };
        }
        have.set(v, n - 1);
      }
    }
  }
  return { property, ok: true, detail: `${learned.length} learner(s) learned all ${total} proposed values` };
}

export function checkAll(proposed: readonly NamedLines[], learned: readonly NamedLines[]): CheckResult[] {
  return [checkTotalOrder(learned), checkIntegrity(proposed, learned), checkAgreement(proposed, learned)];
}

/** Splits a file's text into lines; the newline ends a line (a last line without one still counts). */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
