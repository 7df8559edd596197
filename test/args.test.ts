import { describe, expect, test } from "bun:test";
import { parseFlags } from "../src/args.ts";
import { UsageError } from "../src/errors.ts";

describe("parseFlags (node:util parseArgs under a table)", () => {
  const table = { out: { type: "string" }, json: { type: "boolean" } } as const;
  test("values, = values, positionals, -- and single-dash words as positionals", () => {
    const parsed = parseFlags(["a", "--out", "x", "--out=y", "-z", "--json", "--", "--out"], table);
    expect(parsed.values.get("--out")).toEqual(["x", "y"]);
    expect(parsed.values.has("--json")).toBe(true);
    expect(parsed.positionals).toEqual(["a", "-z", "--out"]);
    expect(parsed.words.get("--out")).toEqual(["--out", "x", "--out=y"]);
  });
  test.each([
    [["--nope"], 'unknown option "--nope"', "see codex-subagents --help"],
    [["--out"], "--out needs a value", "e.g. --out VALUE"],
    [["--json=1"], "--json takes no value", "write just --json"],
  ])("%j: %s (hint: %s)", (argv, message, hint) => {
    expect(() => parseFlags(argv, table)).toThrow(UsageError);
    let refused: unknown;
    try {
      parseFlags(argv, table);
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ message, hint });
  });
});
