/**
 * Pure: what every agent-file format (YAML frontmatter, JSON, TOML) is held to beyond its own parser, so that a file
 * loads as it reads, whoever reads it:
 *
 * - no character that readers disagree about: a lone carriage return (a terminal returns to the start of the line and
 *   writes the next text over what came before; the `yaml` package does not end a line there, though YAML 1.2 does),
 *   NEL U+0085, LINE SEPARATOR U+2028 and PARAGRAPH SEPARATOR U+2029 (line ends to JavaScript, Unicode and some
 *   editors; not to YAML 1.2, TOML or JSON), and a byte-order mark after the start of the file (invisible);
 * - no key that appears twice in one mapping (JSON.parse silently keeps the last one);
 * - no key named `__proto__`, `constructor` or `prototype`, at any depth, and nothing but plain objects, arrays and
 *   scalars: a parser that assigns such a key into an object can change what every other key reads as (a
 *   `[__proto__]` table once supplied settings that `validate` did not see and codex got).
 */

import { closest } from "../suggest.ts";
import type { AgentIssue } from "./schema.ts";

export const PROTOTYPE_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];

const AMBIGUOUS: Record<string, string> = {
  "\r": "a carriage return (CR, U+000D) that is not followed by a line feed",
  "\u0085": "NEXT LINE (NEL, U+0085)",
  "\u2028": "LINE SEPARATOR (U+2028)",
  "\u2029": "PARAGRAPH SEPARATOR (U+2029)",
  "\uFEFF": "a byte-order mark (U+FEFF) after the start of the file",
};

export interface AmbiguousCharacter {
  /** 1-based, counting LF (and CRLF) line ends, as the parsers do. */
  line: number;
  /** What it is, in words. */
  what: string;
}

/**
 * The first character of `text` that readers disagree about (see above), or null. `loneCarriageReturn: false` leaves
 * lone CRs to a parser that refuses them itself (TOML 1.0 does). A leading BOM is the caller's to strip first.
 */
export function ambiguousCharacter(text: string, opts: { loneCarriageReturn?: boolean } = {}): AmbiguousCharacter | null {
  const checkCr = opts.loneCarriageReturn ?? true;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") line += 1;
    else if (c === "\r") {
      if (text[i + 1] !== "\n" && checkCr) return { line, what: AMBIGUOUS["\r"]! };
    } else if (c in AMBIGUOUS) return { line, what: AMBIGUOUS[c]! };
  }
  return null;
}

/** The sentence every format uses for an ambiguous character. */
export function ambiguousCharacterMessage(found: AmbiguousCharacter): string {
  return `line ${found.line} holds ${found.what}; editors, terminals and parsers disagree about where such a line ends, so the file could load differently from how it reads: use plain line ends (LF or CRLF), or write the character as an escape inside a quoted string`;
}

/** Where a parsed value breaks the plain-data rule, or null. `path` is like `mcp_servers.x[0]`. */
export type PlainDataProblem =
  | { kind: "prototype-key"; key: string; path: string }
  | { kind: "not-plain"; path: string }
  | { kind: "too-deep"; path: string };

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const shown = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return parent === "" ? shown : `${parent}.${shown}`;
}

/**
 * Walks a parsed value (iteratively: a deep value cannot exhaust the stack) and reports the first prototype key
 * (unless `prototypeKeys` is false), object that is not plain (a Date, a class instance, an object whose prototype
 * was replaced) or nesting past `maxDepth` (the top-level object is depth 0).
 */
export function plainDataProblem(value: unknown, opts: { maxDepth?: number; prototypeKeys?: boolean } = {}): PlainDataProblem | null {
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const checkKeys = opts.prototypeKeys ?? true;
  const stack: Array<[unknown, string, number]> = [[value, "", 0]];
  while (stack.length > 0) {
    const [v, at, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > maxDepth) return { kind: "too-deep", path: at };
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) return { kind: "not-plain", path: at };
      v.forEach((item, i) => stack.push([item, childPath(at, i), depth + 1]));
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { kind: "not-plain", path: at };
    for (const key of Reflect.ownKeys(v)) {
      if (typeof key !== "string") return { kind: "not-plain", path: at };
      if (checkKeys && PROTOTYPE_KEYS.includes(key)) return { kind: "prototype-key", key, path: childPath(at, key) };
      stack.push([(v as Record<string, unknown>)[key], childPath(at, key), depth + 1]);
    }
  }
  return null;
}

/** The sentence for a prototype key, shared by every format. */
export function prototypeKeyMessage(problem: { key: string; path: string }): string {
  return `the key "${problem.key}" (at ${problem.path}) is not allowed in an agent file: in JavaScript a key named __proto__, constructor or prototype can change what the other settings read as; remove or rename it`;
}

/**
 * The first key that appears twice in one JSON object, at any depth, or null. `text` must already be valid JSON
 * (JSON.parse accepted it): this only walks its tokens. Keys are compared decoded, so `"a"` and `"\u0061"` are one key.
 */
export function duplicateJsonKey(text: string): { key: string; path: string; line: number } | null {
  interface Level {
    keys: Set<string> | null; // null: an array
    path: string;
    expectKey: boolean;
    current: string | number;
  }
  const stack: Level[] = [];
  const here = (): string => {
    const top = stack.at(-1);
    return top ? childPath(top.path, top.current) : "";
  };
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line += 1;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { key, path: childPath(top.path, key), line };
        top.keys.add(key);
        top.current = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === "{" || c === "[") {
      const path = stack.length === 0 ? "" : here();
      stack.push({ keys: c === "{" ? new Set() : null, path, expectKey: c === "{", current: 0 });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack.at(-1)!;
      if (top.keys) top.expectKey = true;
      else top.current = (top.current as number) + 1;
    }
  }
  return null;
}

/**
 * The issue for a key the format does not know. A warning (the key is ignored), with a "did you mean" when a known key
 * is close. Security: when the close key is one that limits what the agent may do (`limiting`), it is an error: the
 * file reads as limited (`isolaton: worktree`, a Claude agent's `tool: Read`) but, the key ignored, would load without
 * the limit (in place, or with every tool and so workspace-write). The author fixes one letter; nothing runs looser
 * than it reads meanwhile. Null for a prototype key, which the reader reports as PROTOTYPE_KEY instead.
 */
export function unknownKeyIssue(
  key: string,
  known: readonly string[],
  limiting: readonly string[],
  text: { code: string; ignored: string; known: string },
): AgentIssue | null {
  if (PROTOTYPE_KEYS.includes(key)) return null;
  const near = closest(key, known);
  if (near !== undefined && limiting.includes(near)) {
    return {
      level: "error", code: text.code, field: key,
      message: `unknown key "${key}"; did you mean "${near}"? A key this close to one that limits what the agent may do is an error, not ignored: ignored, the agent would run without the limit the file seems to set. Fix the spelling`,
    };
  }
  return { level: "warning", code: text.code, field: key, message: `${text.ignored}${near === undefined ? "" : ` (did you mean "${near}"?)`}; ${text.known}` };
}
