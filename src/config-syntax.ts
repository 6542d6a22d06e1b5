/**
 * Where a config file's text is wrong, before its values are looked at: a syntax error with its
 * line and column, and keys given twice (a second `network:` would silently replace the first).
 * Neither parser says either: JSON.parse and Bun.YAML.parse name no position, and both keep the
 * last of two equal keys. So JSON is scanned here (a small recursive-descent reader), and YAML
 * errors are placed by parsing ever longer prefixes of the text, its duplicate keys found by
 * parsing it again with each key made unique by its position (see yamlDuplicates).
 */

/** A problem at a place in the text (line and column from 1; 0 when unknown). */
export interface TextProblem {
  readonly offset: number;
  readonly line: number;
  readonly col: number;
  readonly what: string;
}

/** What is wrong with a config text: a syntax error (then nothing else is looked for), or keys given twice. */
export interface TextProblems {
  readonly syntax?: TextProblem & { readonly source: string };
  readonly duplicates: readonly TextProblem[];
}

/** Line and column (1-based) of an offset. */
function placeOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

const problemAt = (text: string, offset: number, what: string): TextProblem => ({ offset, ...placeOf(text, offset), what });

const duplicate = (text: string, path: string, offset: number, firstOffset: number): TextProblem =>
  problemAt(text, offset, `${path}: given twice (first at line ${placeOf(text, firstOffset).line}); a second one would replace the first`);

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly what: string,
  ) {
    super(what);
  }
}

/**
 * A JSON text's syntax error, or its duplicate keys in the order of the text. The reader is only
 * for finding these: the values come from JSON.parse.
 */
export function jsonProblems(text: string): TextProblems {
  const dups: TextProblem[] = [];
  let i = 0;
  const fail = (what: string, at = i): never => {
    throw new JsonSyntaxError(at, what);
  };
  const space = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const unexpected = (closing: string): never => (i >= text.length ? fail(`unexpected end of file (${closing})`) : fail(`unexpected '${text[i]}'`));
  const string = (): string => {
    const start = i++;
    let out = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\n") fail("a string is not closed on its line", start);
      if (text[i] === "\\") {
        out += text.slice(i, i + 2);
        i += 2;
      } else out += text[i++];
    }
    if (i >= text.length) fail("a string is not closed on its line", start);
    i++;
    return out;
  };
  const value = (path: string, depth: number): void => {
    if (depth > 64) fail("nested too deeply");
    space();
    const c = text[i];
    if (c === "{") object(path, depth);
    else if (c === "[") array(path, depth);
    else if (c === '"') string();
    else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (m === null) unexpected("a value is missing");
      i += m![0].length;
    }
  };
  const object = (path: string, depth: number): void => {
    i++;
    const seen = new Map<string, number>();
    space();
    if (text[i] === "}") return void i++;
    for (;;) {
      space();
      if (text[i] !== '"') unexpected("an object is not closed");
      const at = i;
      const key = string();
      const keyPath = path === "" ? key : `${path}.${key}`;
      const first = seen.get(key);
      if (first !== undefined) dups.push(duplicate(text, keyPath, at, first));
      else seen.set(key, at);
      space();
      if (text[i] !== ":") unexpected("an object is not closed");
      i++;
      value(keyPath, depth + 1);
      space();
      if (text[i] === ",") i++;
      else if (text[i] === "}") return void i++;
      else unexpected("an object is not closed");
    }
  };
  const array = (path: string, depth: number): void => {
    i++;
    space();
    if (text[i] === "]") return void i++;
    for (let k = 0; ; k++) {
      value(`${path}[${k}]`, depth + 1);
      space();
      if (text[i] === ",") i++;
      else if (text[i] === "]") return void i++;
      else unexpected("an array is not closed");
    }
  };
  try {
    value("", 0);
    space();
    if (i < text.length) fail(`unexpected '${text[i]}' after the end`);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const p = problemAt(text, e.offset, e.what);
    return { syntax: { ...p, source: text.split("\n")[p.line - 1] ?? "" }, duplicates: [] };
  }
  return { duplicates: dups };
}

/** Texts longer than this are not searched for the place of a YAML error (each try parses a prefix). */
const YAML_SEARCH_BYTES_MAX = 64 * 1024;

const parses = (text: string): boolean => {
  try {
    Bun.YAML.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** What Bun's YAML error says, in the middle of a sentence: "unexpected token". */
function yamlWhat(e: unknown): string {
  const m = (e as Error).message.replace(/^YAML Parse error:\s*/, "").replace(/\bEOF\b/, "end of file");
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/**
 * A YAML text's syntax error, placed: the line after the longest prefix of whole lines that
 * parses, and in it, the column after the longest part that still parses with the lines before
 * (a construct opened and never closed, such as a quote, is placed where it opens). Or, when it
 * parses, its duplicate keys.
 */
export function yamlProblems(text: string): TextProblems {
  try {
    Bun.YAML.parse(text);
  } catch (e) {
    return { syntax: yamlSyntaxProblem(text, e), duplicates: [] };
  }
  return { duplicates: yamlDuplicates(text) };
}

function yamlSyntaxProblem(text: string, e: unknown): TextProblem & { source: string } {
  const what = yamlWhat(e);
  const lines = text.split("\n");
  if (text.length > YAML_SEARCH_BYTES_MAX) return { offset: -1, line: 0, col: 0, what, source: "" };
  let good = 0; // whole lines that parse
  for (let k = lines.length - 1; k >= 1; k--) {
    if (parses(lines.slice(0, k).join("\n"))) {
      good = k;
      break;
    }
  }
  const before = good === 0 ? "" : `${lines.slice(0, good).join("\n")}\n`;
  const line = lines[good] ?? "";
  let cut = 0;
  if (/tab/i.test(what) && line.includes("\t")) cut = line.indexOf("\t");
  else {
    for (let c = line.length; c > 0; c--) {
      if (parses(before + line.slice(0, c))) {
        cut = c;
        break;
      }
    }
  }
  return { ...problemAt(text, before.length + cut, what), source: line };
}

const MARK = "__paxos_key_";

/**
 * Keys given twice in one YAML mapping. Each key the scan below finds (block keys at the start of
 * a line or after `- `, and keys in flow mappings `{ a: 1, b: 2 }`) gets its offset appended, and
 * the text is parsed again: two marked keys with one name in one mapping are a duplicate. The
 * parser decides what is a mapping; the scan only has to find keys. When the marked text does
 * not parse as the text did (a key the scan misread), nothing is reported.
 */
function yamlDuplicates(text: string): TextProblem[] {
  const keys = yamlKeyOffsets(text);
  if (keys.length === 0) return [];
  let marked = "";
  let from = 0;
  for (const k of keys) {
    marked += `${text.slice(from, k.end)}${MARK}${k.start}`;
    from = k.end;
  }
  marked += text.slice(from);
  let parsed: unknown;
  try {
    parsed = Bun.YAML.parse(marked);
  } catch {
    return [];
  }
  const out: TextProblem[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) v.forEach((x, k) => walk(x, `${path}[${k}]`));
    if (v === null || typeof v !== "object" || Array.isArray(v)) return;
    const seen = new Map<string, number>();
    for (const [rawKey, child] of Object.entries(v)) {
      const m = new RegExp(`^(.*)${MARK}(\\d+)$`, "s").exec(rawKey);
      const key = m?.[1] ?? rawKey;
      const at = m ? Number(m[2]) : -1;
      const keyPath = path === "" ? key : `${path}.${key}`;
      const first = seen.get(key);
      if (first !== undefined && at >= 0) out.push(duplicate(text, keyPath, at, first));
      else seen.set(key, at);
      walk(child, keyPath);
    }
  };
  walk(parsed, "");
  return out.sort((a, b) => a.offset - b.offset);
}

/** A key's text (quotes included): where it starts, and where its name ends (inside a closing quote). */
interface KeyAt {
  readonly start: number;
  readonly end: number;
}

const KEY_AT = /(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s\-?:,[\]{}#&*!|>'"%@`][^\n:#,[\]{}]*?|-[^\s\n:#,[\]{}][^\n:#,[\]{}]*?)[ \t]*:(?=[ \t\n\r]|$)/y;

/** Where the keys of a YAML text are (see yamlDuplicates). */
function yamlKeyOffsets(text: string): KeyAt[] {
  const keys: KeyAt[] = [];
  /** Open flow collections, innermost last. */
  const flow: string[] = [];
  let blockScalarIndent = -1;
  /** A key may come next: at a line's start outside flow collections, after `{` or `,` inside one (across lines too). */
  let expectKey = true;
  let i = 0;
  const keyHere = (): boolean => {
    KEY_AT.lastIndex = i;
    const m = KEY_AT.exec(text);
    if (m === null) return false;
    const name = m[0].replace(/[ \t]*:$/, "");
    const quoted = name.startsWith('"') || name.startsWith("'");
    keys.push({ start: i, end: i + name.length - (quoted ? 1 : 0) });
    i += m[0].length;
    return true;
  };
  /** Skips a quoted scalar at i (it may span lines). */
  const skipQuoted = (): void => {
    const q = text[i];
    i++;
    while (i < text.length && text[i] !== q) i += q === '"' && text[i] === "\\" ? 2 : 1;
    i++;
  };
  while (i < text.length) {
    const lineEnd = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
    let indent = 0;
    while (text[i + indent] === " ") indent++;
    if (blockScalarIndent >= 0 && (indent > blockScalarIndent || text.slice(i, lineEnd).trim() === "")) {
      i = lineEnd + 1;
      continue;
    }
    blockScalarIndent = -1;
    i += indent;
    if (flow.length === 0) expectKey = true;
    let keyIndent = indent;
    while (flow.length === 0 && /^-[ \t]/.test(text.slice(i, i + 2))) {
      i += 2;
      while (text[i] === " ") i++;
      keyIndent = i - (text.lastIndexOf("\n", i - 1) + 1);
    }
    while (i < lineEnd) {
      const c = text[i]!;
      if (expectKey && flow.at(-1) !== "[" && keyHere()) {
        expectKey = false;
        while (text[i] === " " || text[i] === "\t") i++;
        if (flow.length === 0 && (text[i] === "|" || text[i] === ">")) {
          blockScalarIndent = keyIndent;
          break;
        }
        continue;
      }
      expectKey = false;
      if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) break;
      if (c === '"' || c === "'") {
        skipQuoted();
        continue;
      }
      if (c === "{" || c === "[") {
        flow.push(c);
        expectKey = true;
      } else if (c === "}" || c === "]") flow.pop();
      else if (c === "," && flow.length > 0) expectKey = true;
      i++;
      if (expectKey) while (text[i] === " " || text[i] === "\t") i++;
    }
    i = Math.max(i, lineEnd) + 1;
  }
  return keys;
}
