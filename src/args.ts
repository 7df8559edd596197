/**
 * The one argv reader: node:util parseArgs (Node ≥ 18.3, Bun and Deno alike) under a table of flags, with our own
 * messages. Pure: argv in, values and positionals out, or a UsageError naming the word.
 *
 * A word that does not start with `--` is a positional (a task such as "-x" stays one); `--` ends the options.
 */
import { parseArgs } from "node:util";
import { UsageError, type RefusalParts } from "./errors.ts";
import { didYouMean } from "./suggest.ts";

export interface FlagSpec {
  /** "string" takes a value (`--out DIR` or `--out=DIR`); "boolean" takes none. */
  type: "string" | "boolean";
}

/** Flags by their long name without the dashes: `{ out: { type: "string" } }` reads `--out`. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface ParsedFlags {
  /** Every value given, by flag as written (`--out`), in order; a boolean flag given has `["true"]`. */
  values: Map<string, string[]>;
  positionals: string[];
  /** The words of each flag as given (`["--root", "/r"]` or `["--root=/r"]`), in order, for passing on. */
  words: Map<string, string[]>;
}

export interface ParseMessages {
  /**
   * The refusal for an option not in the table, given `; did you mean "--y"?` when one is close (or "");
   * default: `unknown option "--x"; did you mean "--y"?` with the hint `see codex-subagents --help`.
   */
  unknown?: (flag: string, suggestion: string) => RefusalParts;
}

export function parseFlags(argv: readonly string[], table: FlagTable, messages: ParseMessages = {}): ParsedFlags {
  const options = Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, { type: spec.type, multiple: true }]));
  // strict: false so that every problem gets our wording (with the word quoted) instead of parseArgs' own.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string[]>();
  const words = new Map<string, string[]>();
  const positionals: string[] = [];
  let lastIndex = -1;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    // A short option (`-x`, or a group `-abc`) is a positional word, as it always was: one entry per argv word.
    if (!token.rawName.startsWith("--")) {
      if (token.index !== lastIndex) positionals.push(argv[token.index]!);
      lastIndex = token.index;
      continue;
    }
    const flag = token.rawName;
    const spec = table[token.name];
    if (!spec) {
      const suggestion = didYouMean(flag, Object.keys(table).map((name) => `--${name}`));
      const unknown = messages.unknown?.(flag, suggestion) ?? { message: `unknown option "${flag}"${suggestion}`, hint: "see codex-subagents --help" };
      throw new UsageError(unknown.message, { hint: unknown.hint });
    }
    if (spec.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`${flag} takes no value`, { hint: `write just ${flag}` });
      values.set(flag, [...(values.get(flag) ?? []), "true"]);
      words.set(flag, [...(words.get(flag) ?? []), flag]);
      continue;
    }
    if (token.value === undefined) throw new UsageError(`${flag} needs a value`, { hint: `e.g. ${flag} VALUE` });
    values.set(flag, [...(values.get(flag) ?? []), token.value]);
    words.set(flag, [...(words.get(flag) ?? []), ...(token.inlineValue ? [`${flag}=${token.value}`] : [flag, token.value])]);
  }
  return { values, positionals, words };
}

/** The one value of a flag given at most once; undefined when not given. */
export function onceOf(parsed: ParsedFlags, flag: string, what = flag): string | undefined {
  const given = parsed.values.get(flag);
  if (given && given.length > 1) throw new UsageError(`${what} was given ${given.length} times`, { hint: "give it once" });
  return given?.[0];
}
