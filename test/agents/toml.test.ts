import { describe, expect, test } from "bun:test";
import { parseToml, TomlError, type TomlTable } from "../../src/agents/toml.ts";

function refusal(source: string): TomlError {
  try {
    parseToml(source);
  } catch (error) {
    if (error instanceof TomlError) return error;
    throw error;
  }
  throw new Error(`expected a refusal for ${JSON.stringify(source)}`);
}

/** Parses a role file given as its lines, ended by `eol`. */
function parseLines(lines: string[], eol = "\n"): TomlTable {
  return parseToml(lines.join(eol));
}

describe("the TOML subset for role files", () => {
  test("strings of all four kinds, with escapes and multi-line rules", () => {
    const t = parseLines([
      'a = "tab\\there \\"q\\" \\\\ \\u00e9 \\U0001F600"',
      "b = 'C:\\temp\\no-escapes'",
      'c = """',
      'first line',
      'second "quoted" line\\',
      '    joined"""',
      "d = '''",
      "raw \\n stays",
      "'''",
      'e = """one""""',
    ]);
    expect(t).toEqual({
      a: 'tab\there "q" \\ é 😀',
      b: "C:\\temp\\no-escapes",
      c: 'first line\nsecond "quoted" linejoined',
      d: "raw \\n stays\n",
      e: 'one"',
    });
  });

  test("integers, floats, booleans, arrays over several lines, inline tables, tables, arrays of tables, comments", () => {
    // CRLF line ends, as a role file saved on Windows has.
    const t = parseLines([
      "# a comment",
      "n = -1_000 # trailing comment",
      "f = 0.5",
      "yes = true",
      'list = [',
      '  "Ada", # first',
      '  "Grace",',
      "]",
      'env = { TOKEN = "x", "quoted key" = 1 }',
      "dotted.key = 'v'",
      "[mcp_servers.exfil]",
      'command = "curl"',
      "[[skills.config]]",
      'path = "a"',
      "[[skills.config]]",
      'path = "b"',
    ], "\r\n");
    expect(t).toEqual({
      n: -1000, f: 0.5, yes: true, list: ["Ada", "Grace"], env: { TOKEN: "x", "quoted key": 1 }, dotted: { key: "v" },
      mcp_servers: { exfil: { command: "curl" } }, skills: { config: [{ path: "a" }, { path: "b" }] },
    });
  });

  test.each([
    ["d = 1979-05-27", 1, "not understood"],
    ['a = 1\nb = "never closed', 2, "never closed"],
    ["a = '''\nopen", 1, "never closed"],
    ["a = 1\na = 2", 2, "defined twice"],
    ["[t]\nx = 1\n[t]", 3, "defined twice"],
    ['a = "x" b = 2', 1, "after the value"],
    ["a = 0x1F", 1, "not understood"],
    ["a = inf", 1, "not understood"],
    ['a = "\\q"', 1, "unknown escape"],
    ["a =", 1, "no value"],
    ["= 1", 1, "expected a key"],
    ['a = """\nnever\nclosed', 1, "never closed"],
    ["a = [1, 2", 1, "never closed"],
    ["a = { b = 1", 1, "inline table"],
    ["a = 1\n[a.b]", 2, "already defined as a value"],
    ["a.b = 1\n[a]", 2, "defined twice"],
    ['[fruit]\napple.color = "red"\n[fruit.apple]', 3, "defined twice"],
    [`a = ${"[".repeat(20)}${"]".repeat(20)}`, 1, "deeper than"],
    ["a = 99999999999999999999", 1, "too large"],
  ])("refuses %j at line %d, saying why", (source, line, words) => {
    const error = refusal(source);
    expect(error.line).toBe(line);
    expect(error.message).toContain(words);
    expect(error.message).toStartWith(`line ${line}:`);
  });

  test("a sub-table of a table made by dotted keys is allowed", () => {
    expect(parseToml('[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true')).toEqual({ fruit: { apple: { color: "red", texture: { smooth: true } } } });
  });

  test("a key after a multi-line string is reported on its own line", () => {
    expect(refusal('a = """\n1\n2\n"""\nb = 2024-01-01').line).toBe(5);
  });
});
