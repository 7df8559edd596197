/**
 * Pure: TOML text → plain data, for Codex role files (and any other TOML the server reads). The parsing is smol-toml's
 * (TOML 1.0, checked against the toml-test suite): duplicate keys, redefined tables, control characters (a lone CR in
 * a comment too) are its errors. Around it, our own limits: the size before parsing; after it, the nesting depth, and
 * dates and times refused (no key a role file may set takes one, and codex would read them as dates, not text).
 *
 * smol-toml builds tables without a prototype and keeps a `__proto__` key as a key; they are copied into ordinary
 * objects as own data properties, so `__proto__` stays a key here too, for the caller to refuse (strict.ts).
 */
import { parse, TomlError as SmolTomlError } from "smol-toml";
import { plainDataProblem } from "./strict.ts";

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  override name = "TomlError";
  /** `line`: 1-based, when the problem has one place in the text. */
  constructor(readonly line: number | null, message: string) {
    super(line === null ? message : `line ${line}: ${message}`);
  }
}

/** Security: a hostile file can neither be large nor deep. */
export const MAX_TOML_DEPTH = 8;
export const MAX_TOML_BYTES = 1024 * 1024;

export function parseToml(source: string, limits: { maxBytes?: number; maxDepth?: number } = {}): TomlTable {
  const maxBytes = limits.maxBytes ?? MAX_TOML_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_TOML_DEPTH;
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > maxBytes) throw new TomlError(null, `the file is ${bytes} bytes; at most ${maxBytes} are read`);
  let table: Record<string, unknown>;
  try {
    table = parse(source, { maxDepth });
  } catch (error) {
    if (!(error instanceof SmolTomlError)) throw error;
    // smol-toml's message is "Invalid TOML document: <what>" and then the lines around it; only <what> is kept (the
    // file's own text is not echoed).
    const what = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    throw new TomlError(error.line, what);
  }
  const problem = plainDataProblem(table, { maxDepth, prototypeKeys: false });
  if (problem?.kind === "too-deep") throw new TomlError(null, `tables and values nest deeper than ${maxDepth} levels (at ${problem.path})`);
  // Only a date or time is not plain data in what smol-toml returns.
  if (problem?.kind === "not-plain") {
    throw new TomlError(lineOfKey(source, problem.path), `${problem.path} holds a date or time, which no role-file key takes; write it as a string`);
  }
  return plainCopy(table) as TomlTable;
}

/** The line where the last key of `keyPath` is given a value, when exactly one line does (smol-toml keeps no positions). */
function lineOfKey(source: string, keyPath: string): number | null {
  const key = /[^.[\]"]+(?="?$)/.exec(keyPath)?.[0];
  if (key === undefined) return null;
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^[ \\t]*(?:[A-Za-z0-9_.\\-"' ]*\\.)?["']?${escaped}["']?[ \\t]*=`);
  const lines = source.split(/\r?\n/).map((line, i) => [line, i + 1] as const).filter(([line]) => pattern.test(line));
  return lines.length === 1 ? lines[0]![1] : null;
}

/** Tables → ordinary objects; keys become own data properties (defineProperty: "__proto__" is a key, not a setter). */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(out, key, { value: plainCopy(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
