// The TOML reader (src/agents/toml.ts): smol-toml's parsing, our size limit before it and our checks after it; and, for
// role files, that a prototype key or a duplicate key in any position is an error (parse.ts, strict.ts).
import { describe, expect, test } from "bun:test";
import { parseCodexRoleAgent } from "../../src/agents/parse.ts";
import { parseToml, TomlError, type TomlTable } from "../../src/agents/toml.ts";

function refusal(source: string, limits?: { maxBytes?: number }): TomlError {
  try {
    parseToml(source, limits);
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

/** Every table is an ordinary object, at any depth (the role-file parse result is plain data for codex-role.ts). */
function expectPlain(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(expectPlain);
  if (value === null || typeof value !== "object") return;
  expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  Object.values(value).forEach(expectPlain);
}

describe("the TOML reader", () => {
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

  test("integers, floats, booleans, arrays over several lines, inline tables, tables, arrays of tables, comments: plain objects", () => {
    // CRLF line ends, as a role file saved on Windows has.
    const t = parseLines([
      "# a comment",
      "n = -1_000 # trailing comment",
      "f = 0.5",
      "h = 0x1F",
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
      n: -1000, f: 0.5, h: 31, yes: true, list: ["Ada", "Grace"], env: { TOKEN: "x", "quoted key": 1 }, dotted: { key: "v" },
      mcp_servers: { exfil: { command: "curl" } }, skills: { config: [{ path: "a" }, { path: "b" }] },
    });
    expectPlain(t);
  });

  test("a byte-order mark at the start is allowed", () => {
    expect(parseToml('\uFEFFa = "x"\n')).toEqual({ a: "x" });
  });

  test.each([
    ['a = 1\nb = "never closed', 2],
    ["a = '''\nopen", 1],
    ["a = 1\na = 2", 2],
    ["[t]\nx = 1\n[t]", 3],
    ['a = "x" b = 2', 1],
    ['a = "\\q"', 1],
    ["a =", 1],
    ["= 1", 1],
    ["a = [1, 2", 1],
    ["a = { b = 1", 1],
    ["a = 1\n[a.b]", 2],
    ["a.b = 1\n[a]", 2],
    ['[fruit]\napple.color = "red"\n[fruit.apple]', 3],
    [`a = ${"[".repeat(20)}${"]".repeat(20)}`, 1],
    ["a = 99999999999999999999", 1],
    // TOML 1.0: a lone CR is not a line end and not allowed in a comment (finding: it hid a second key from a terminal).
    ['sandbox_mode = "workspace-write" #\rsandbox_mode = "read-only"\n', 1],
    ['a = 1\rb = 2\n', 1],
    ['a = """x\ry"""\n', 1],
  ])("refuses %j at line %d, with one line of why", (source, line) => {
    const error = refusal(source);
    expect(error.line).toBe(line);
    expect(error.message).toStartWith(`line ${line}: `);
    expect(error.message).not.toContain("\n");
  });

  test("our limits: the size before parsing, the depth of tables and values after it, and no dates", () => {
    expect(refusal("a = 1\n".repeat(100), { maxBytes: 100 }).message).toBe("the file is 600 bytes; at most 100 are read");
    expect(refusal(`[${Array.from({ length: 50 }, () => "t").join(".")}]\n`).message).toContain("nest deeper than 8 levels");
    expect(refusal("when = 1979-05-27\n").message).toBe("line 1: when holds a date or time, which no role-file key takes; write it as a string");
    expect(refusal('a = 1\n[t]\n"at" = 07:32:00\n').message).toStartWith("line 3: t.at holds a date or time");
    expect(refusal("a.b.when = 1979-05-27\n").line).toBe(1);
    // Where the key cannot be found on one line, the message names it without a line.
    expect(refusal("a = [1979-05-27]\n")).toMatchObject({ line: null, message: expect.stringContaining("a[0] holds a date or time") });
  });

  test("a sub-table of a table made by dotted keys is allowed", () => {
    expect(parseToml('[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true')).toEqual({ fruit: { apple: { color: "red", texture: { smooth: true } } } });
  });

  test("a key after a multi-line string is reported on its own line", () => {
    expect(refusal('a = """\n1\n2\n"""\nb = c').line).toBe(5);
  });

  test("a __proto__ key stays a key: nothing reads through it", () => {
    const t = parseToml('[__proto__]\nmodel = "evil"\n') as Record<string, unknown>;
    expect(Object.keys(t)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(t.model).toBeUndefined();
  });
});

describe("role files: prototype keys and duplicate keys in every position are errors", () => {
  const role = (body: string) => parseCodexRoleAgent("r", "r.toml", `developer_instructions = "x"\n${body}`);
  const codes = (body: string) => role(body).issues.filter((i) => i.level === "error").map((i) => i.code);

  const positions = (key: string): string[] => [
    `${key} = "x"`,
    `"${key}" = "x"`,
    `'${key}' = "x"`,
    `[${key}]\nmodel = "evil"`,
    `["${key}"]\nmodel = "evil"`,
    `[[${key}]]\nmodel = "evil"`,
    `[a.${key}]\nmodel = "evil"`,
    `[a]\n${key}.model = "evil"`,
    `a.${key}.model = "evil"`,
    `a = { ${key} = { model = "evil" } }`,
    `a = { b.${key} = 1 }`,
    `a = [{ ${key} = 1 }]`,
    `[[a]]\n[a.${key}]\nx = 1`,
  ];
  for (const key of ["__proto__", "constructor", "prototype"]) {
    test.each(positions(key))(`${key}: %j is PROTOTYPE_KEY, and no setting comes from it`, (body) => {
      const r = role(body);
      expect(codes(body)).toEqual(["PROTOTYPE_KEY"]);
      expect(r.issues.find((i) => i.code === "PROTOTYPE_KEY")!.message).toContain(`"${key}"`);
      expect(r.agent).toBeUndefined();
      expect(r.settings.model).toBeUndefined();
    });
  }

  test.each([
    'model = "a"\nmodel = "b"',
    'model = "a"\n"model" = "b"',
    "[t]\nx = 1\n[t]\ny = 2",
    "[t]\nx = 1\nx = 2",
    "t.x = 1\n[t]\ny = 2",
    "a = { x = 1, x = 2 }",
    "a = { x.y = 1, x = 2 }",
    "[[a]]\nx = 1\nx = 2",
    "a = 1\n[a]",
    "a = [1]\n[[a]]",
    'sandbox_mode = "read-only"\n[x]\n[x]',
  ])("the duplicate in %j is a TOML_ERROR", (body) => {
    expect(codes(body)).toEqual(["TOML_ERROR"]);
  });
});
