/**
 * Pure: a small, strict TOML subset for Codex role files (`.codex/agents/*.toml`). No dependency: the project adds
 * none without a written reason, and a role file needs only this much of TOML.
 *
 * Understood: comments; bare, quoted and dotted keys; basic and literal strings, one-line and multi-line; integers
 * (decimal), simple floats, booleans; arrays (also over several lines); inline tables; `[table]` and `[[array of
 * tables]]` headers. Everything else (dates, hex/octal/binary integers, inf/nan, …) is refused with its line number,
 * never guessed at, and so are duplicate keys and redefined tables.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  override name = "TomlError";
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

/** Security: nesting is bounded, so a hostile file cannot exhaust the stack. */
const MAX_DEPTH = 8;
const BARE_KEY = /^[A-Za-z0-9_-]+/;

/** Tables created by a `[header]` or by dotted keys; a second `[header]` for one of them is an error. */
interface State {
  src: string;
  pos: number;
  line: number;
  root: TomlTable;
  explicit: Set<TomlTable>;
  /** Tables defined with inline `{ }` or arrays: closed for later additions. */
  frozen: Set<unknown>;
  /** Tables created by dotted keys (`a.b = 1`): a later `[a]` header may not define them again. */
  dotted: Set<TomlTable>;
}

export function parseToml(source: string): TomlTable {
  const st: State = { src: source.replace(/^\uFEFF/, ""), pos: 0, line: 1, root: {}, explicit: new Set(), frozen: new Set(), dotted: new Set() };
  let current = st.root;
  while (st.pos < st.src.length) {
    skipWhitespaceAndComments(st, true);
    if (st.pos >= st.src.length) break;
    if (st.src[st.pos] === "[") {
      current = parseHeader(st);
    } else {
      parseKeyValue(st, current);
    }
    endOfLine(st);
  }
  return st.root;
}

function fail(st: State, message: string): never {
  throw new TomlError(st.line, message);
}

function peek(st: State, n = 0): string {
  return st.src[st.pos + n] ?? "";
}

/** Spaces and tabs; with `newlines`, also line ends and comments (between statements and inside arrays). */
function skipWhitespaceAndComments(st: State, newlines: boolean): void {
  for (;;) {
    const c = peek(st);
    if (c === " " || c === "\t") st.pos++;
    else if (c === "#") skipComment(st);
    else if (newlines && c === "\n") { st.pos++; st.line++; }
    else if (newlines && c === "\r" && peek(st, 1) === "\n") { st.pos += 2; st.line++; }
    else return;
  }
}

function skipComment(st: State): void {
  while (st.pos < st.src.length && st.src[st.pos] !== "\n") {
    const code = st.src.charCodeAt(st.pos);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0d) || code === 0x7f) fail(st, "a comment holds a control character");
    st.pos++;
  }
}

function endOfLine(st: State): void {
  skipWhitespaceAndComments(st, false);
  if (st.pos >= st.src.length) return;
  if (peek(st) === "\n") { st.pos++; st.line++; return; }
  if (peek(st) === "\r" && peek(st, 1) === "\n") { st.pos += 2; st.line++; return; }
  fail(st, `unexpected ${JSON.stringify(peek(st))} after the value; put one key = value on each line`);
}

function parseKeyPath(st: State): string[] {
  const parts: string[] = [];
  for (;;) {
    skipWhitespaceAndComments(st, false);
    const c = peek(st);
    if (c === '"') parts.push(parseBasicString(st));
    else if (c === "'") parts.push(parseLiteralString(st));
    else {
      const bare = BARE_KEY.exec(st.src.slice(st.pos, st.pos + 256));
      if (!bare) fail(st, `expected a key, found ${c === "" ? "the end of the file" : JSON.stringify(c)}`);
      parts.push(bare[0]);
      st.pos += bare[0].length;
    }
    skipWhitespaceAndComments(st, false);
    if (peek(st) !== ".") return parts;
    st.pos++;
  }
}

/** Walk (creating) the tables of a dotted key. */
function descend(st: State, table: TomlTable, keys: readonly string[], what: string): TomlTable {
  let t = table;
  for (const key of keys) {
    if (!Object.hasOwn(t, key)) {
      const next: TomlTable = {};
      t[key] = next;
      if (what === "key") st.dotted.add(next);
      t = next;
      continue;
    }
    const existing = t[key];
    if (Array.isArray(existing) && what === "header" && existing.length > 0 && isTable(existing.at(-1))) {
      t = existing.at(-1) as TomlTable;
    } else if (isTable(existing) && !st.frozen.has(existing)) {
      t = existing;
    } else {
      fail(st, `key "${key}" is already defined as a value; it cannot also be a table`);
    }
  }
  return t;
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseHeader(st: State): TomlTable {
  const arrayOfTables = peek(st, 1) === "[";
  st.pos += arrayOfTables ? 2 : 1;
  const keys = parseKeyPath(st);
  if (st.src.slice(st.pos, st.pos + (arrayOfTables ? 2 : 1)) !== (arrayOfTables ? "]]" : "]")) {
    fail(st, `the table header [${keys.join(".")}] is not closed with ${arrayOfTables ? "]]" : "]"}`);
  }
  st.pos += arrayOfTables ? 2 : 1;
  if (keys.length > MAX_DEPTH) fail(st, `tables nest deeper than ${MAX_DEPTH} levels`);
  const parent = descend(st, st.root, keys.slice(0, -1), "header");
  const last = keys.at(-1)!;
  if (arrayOfTables) {
    const existing = parent[last];
    if (existing !== undefined && (!Array.isArray(existing) || st.frozen.has(existing))) fail(st, `[[${keys.join(".")}]] conflicts with an earlier definition of "${last}"`);
    const list = (existing as TomlValue[] | undefined) ?? [];
    parent[last] = list;
    const table: TomlTable = {};
    list.push(table);
    st.explicit.add(table);
    return table;
  }
  if (Object.hasOwn(parent, last)) {
    const existing = parent[last];
    if (!isTable(existing) || st.explicit.has(existing) || st.frozen.has(existing) || st.dotted.has(existing)) fail(st, `table [${keys.join(".")}] is defined twice`);
    st.explicit.add(existing);
    return existing;
  }
  const table: TomlTable = {};
  parent[last] = table;
  st.explicit.add(table);
  return table;
}

function parseKeyValue(st: State, table: TomlTable): void {
  const keys = parseKeyPath(st);
  if (peek(st) !== "=") fail(st, `expected "=" after the key "${keys.join(".")}"`);
  st.pos++;
  skipWhitespaceAndComments(st, false);
  const target = descend(st, table, keys.slice(0, -1), "key");
  const last = keys.at(-1)!;
  if (Object.hasOwn(target, last)) fail(st, `key "${keys.join(".")}" is defined twice`);
  target[last] = parseValue(st, 0);
}

function parseValue(st: State, depth: number): TomlValue {
  if (depth > MAX_DEPTH) fail(st, `values nest deeper than ${MAX_DEPTH} levels`);
  const c = peek(st);
  if (c === '"') return st.src.startsWith('"""', st.pos) ? parseMultiline(st, '"') : parseBasicString(st);
  if (c === "'") return st.src.startsWith("'''", st.pos) ? parseMultiline(st, "'") : parseLiteralString(st);
  if (c === "[") return parseArray(st, depth);
  if (c === "{") return parseInlineTable(st, depth);
  const word = /^[^\s,\]}#]+/.exec(st.src.slice(st.pos, st.pos + 128))?.[0] ?? "";
  if (word === "true" || word === "false") {
    st.pos += word.length;
    return word === "true";
  }
  if (/^[+-]?(0|[1-9](_?\d)*)$/.test(word)) {
    const n = Number(word.replaceAll("_", ""));
    if (!Number.isSafeInteger(n)) fail(st, `the integer ${word} is too large`);
    st.pos += word.length;
    return n;
  }
  if (/^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?$/.test(word)) {
    st.pos += word.length;
    return Number(word.replaceAll("_", ""));
  }
  if (word === "") fail(st, c === "" || c === "\n" || c === "\r" ? "a key has no value" : `unexpected ${JSON.stringify(c)} where a value should be`);
  fail(st, `the value ${JSON.stringify(word.slice(0, 40))} is not understood here (role files may use strings, integers, booleans, arrays and tables; dates and other forms are not supported)`);
}

function parseArray(st: State, depth: number): TomlValue[] {
  st.pos++;
  const items: TomlValue[] = [];
  for (;;) {
    skipWhitespaceAndComments(st, true);
    if (peek(st) === "]") { st.pos++; break; }
    items.push(parseValue(st, depth + 1));
    skipWhitespaceAndComments(st, true);
    if (peek(st) === ",") { st.pos++; continue; }
    if (peek(st) === "]") { st.pos++; break; }
    fail(st, peek(st) === "" ? "an array is never closed with ]" : `expected "," or "]" in an array, found ${JSON.stringify(peek(st))}`);
  }
  st.frozen.add(items);
  return items;
}

function parseInlineTable(st: State, depth: number): TomlTable {
  st.pos++;
  const table: TomlTable = {};
  skipWhitespaceAndComments(st, false);
  if (peek(st) === "}") { st.pos++; st.frozen.add(table); return table; }
  for (;;) {
    const keys = parseKeyPath(st);
    if (peek(st) !== "=") fail(st, `expected "=" after the key "${keys.join(".")}" in an inline table`);
    st.pos++;
    skipWhitespaceAndComments(st, false);
    const target = descend(st, table, keys.slice(0, -1), "key");
    const last = keys.at(-1)!;
    if (Object.hasOwn(target, last)) fail(st, `key "${keys.join(".")}" is defined twice`);
    target[last] = parseValue(st, depth + 1);
    skipWhitespaceAndComments(st, false);
    if (peek(st) === ",") { st.pos++; continue; }
    if (peek(st) === "}") { st.pos++; break; }
    fail(st, `expected "," or "}" in an inline table (which must stay on one line), found ${JSON.stringify(peek(st))}`);
  }
  st.frozen.add(table);
  return table;
}

function checkChar(st: State, ch: string, multiline: boolean): void {
  const code = ch.charCodeAt(0);
  if (ch === "\n" && multiline) return;
  if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
    if (ch === "\n" || ch === "\r") fail(st, "a one-line string is not closed before the end of the line");
    fail(st, `a string holds the control character U+${code.toString(16).padStart(4, "0")}; write it as an escape`);
  }
}

function parseEscape(st: State): string {
  const e = peek(st);
  st.pos++;
  const simple: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };
  if (e in simple) return simple[e]!;
  if (e === "u" || e === "U") {
    const len = e === "u" ? 4 : 8;
    const hex = st.src.slice(st.pos, st.pos + len);
    if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) fail(st, `\\${e} needs ${len} hex digits`);
    const code = parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(st, `\\${e}${hex} is not a Unicode scalar value`);
    st.pos += len;
    return String.fromCodePoint(code);
  }
  fail(st, `unknown escape \\${e}; use \\\\ for a backslash, or a literal '…' string`);
}

function parseBasicString(st: State): string {
  st.pos++;
  let out = "";
  for (;;) {
    const ch = peek(st);
    if (ch === "") fail(st, "a string is never closed");
    st.pos++;
    if (ch === '"') return out;
    if (ch === "\\") { out += parseEscape(st); continue; }
    checkChar(st, ch, false);
    out += ch;
  }
}

function parseLiteralString(st: State): string {
  st.pos++;
  const start = st.pos;
  for (;;) {
    const ch = peek(st);
    if (ch === "") fail(st, "a string is never closed");
    if (ch === "'") {
      const value = st.src.slice(start, st.pos);
      st.pos++;
      return value;
    }
    checkChar(st, ch, false);
    st.pos++;
  }
}

/** Skip the newline right after an opening `"""`/`'''`, as TOML does. */
function skipOpeningNewline(st: State): void {
  if (peek(st) === "\n") { st.pos++; st.line++; }
  else if (peek(st) === "\r" && peek(st, 1) === "\n") { st.pos += 2; st.line++; }
}

/** Up to two quotes may end a multi-line string right before its closing delimiter (`""""` → one `"` of content). */
function closingQuotes(st: State, quote: string): number {
  let n = 0;
  while (peek(st, n) === quote) n++;
  return n;
}

/** A `"""` (basic: escapes apply) or `'''` (literal: taken as written) multi-line string, from its opening delimiter. */
function parseMultiline(st: State, quote: '"' | "'"): string {
  const delimiter = quote.repeat(3);
  const startLine = st.line;
  st.pos += 3;
  skipOpeningNewline(st);
  let out = "";
  for (;;) {
    const ch = peek(st);
    if (ch === "") throw new TomlError(startLine, `the ${delimiter} string that opens here is never closed`);
    if (ch === quote) {
      const n = closingQuotes(st, quote);
      if (n >= 3) {
        if (n > 5) fail(st, `too many quotes at the end of a ${delimiter} string`);
        out += quote.repeat(n - 3);
        st.pos += n;
        return out;
      }
      out += quote.repeat(n);
      st.pos += n;
      continue;
    }
    st.pos++;
    if (ch === "\\" && quote === '"') {
      if (!skipLineEndingBackslash(st)) out += parseEscape(st);
      continue;
    }
    if (ch === "\r" && peek(st) === "\n") { st.pos++; st.line++; out += "\n"; continue; }
    checkChar(st, ch, true);
    if (ch === "\n") st.line++;
    out += ch;
  }
}

/** After a backslash in a `"""` string: one at the end of a line trims the line end and the whitespace after it. */
function skipLineEndingBackslash(st: State): boolean {
  const rest = /^[ \t]*\r?\n/.exec(st.src.slice(st.pos, st.pos + 512));
  if (!rest) return false;
  st.pos += rest[0].length;
  st.line++;
  for (;;) {
    const c = peek(st);
    if (c === " " || c === "\t") st.pos++;
    else if (c === "\n") { st.pos++; st.line++; }
    else if (c === "\r" && peek(st, 1) === "\n") { st.pos += 2; st.line++; }
    else return true;
  }
}
