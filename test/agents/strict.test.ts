// What every agent-file format is held to beyond its parser (src/agents/strict.ts, used by parse.ts, claude-code.ts and
// codex-role.ts): characters readers disagree about, duplicate keys, prototype keys, misspelt keys. The attacks through
// the built server are in test/adversarial/agent-text.test.ts.
import { describe, expect, test } from "bun:test";
import { parseCodexRoleAgent, parseJsonAgentFields, parseMarkdownAgent, splitFrontmatter } from "../../src/agents/parse.ts";
import { ambiguousCharacter, duplicateJsonKey, plainDataProblem, unknownKeyIssue } from "../../src/agents/strict.ts";

const codes = (r: { issues: { code: string; level: string }[] }) => r.issues.filter((i) => i.level === "error").map((i) => i.code);

describe("ambiguousCharacter", () => {
  test("LF and CRLF are plain; a lone CR, NEL, U+2028, U+2029 and a BOM are not, each with its line", () => {
    expect(ambiguousCharacter("a\nb\r\nc\n")).toBeNull();
    expect(ambiguousCharacter("a\nb\rc")).toEqual({ line: 2, what: expect.stringContaining("carriage return") });
    expect(ambiguousCharacter("a\r\n\u0085")).toEqual({ line: 2, what: expect.stringContaining("NEL") });
    expect(ambiguousCharacter("\u2028")).toEqual({ line: 1, what: expect.stringContaining("U+2028") });
    expect(ambiguousCharacter("x\n\n\u2029")).toEqual({ line: 3, what: expect.stringContaining("U+2029") });
    expect(ambiguousCharacter("x\uFEFF")).toEqual({ line: 1, what: expect.stringContaining("byte-order mark") });
    expect(ambiguousCharacter("a\rb", { loneCarriageReturn: false })).toBeNull();
  });
});

describe("duplicateJsonKey", () => {
  test.each([
    ['{"a":1,"a":2}', { key: "a", path: "a" }],
    ['{"a":1,"\\u0061":2}', { key: "a", path: "a" }],
    ['{"x":{"a":1,"b":{"c":1,"c":2}}}', { key: "c", path: "x.b.c" }],
    ['{"x":[{"p":1},{"p":1,"p":2}]}', { key: "p", path: "x[1].p" }],
    ['{"x":[[1,{"k":"a","k":"b"}]]}', { key: "k", path: "x[0][1].k" }],
    ['{"a b":{"q":1,"q":1}}', { key: "q", path: '"a b".q' }],
  ] as const)("%s: %j", (text, duplicate) => {
    expect(duplicateJsonKey(text)).toMatchObject(duplicate);
  });
  test("equal values under different keys, keys in strings, escaped quotes: no duplicate", () => {
    expect(duplicateJsonKey('{"a":"\\"a\\"","b":{"a":1},"c":["a","a"],"d":"{\\"e\\":1,\\"e\\":2}"}')).toBeNull();
  });
  test("names the line", () => {
    expect(duplicateJsonKey('{\n  "sandbox_mode": "read-only",\n  "persona": "x",\n  "sandbox_mode": "workspace-write"\n}')?.line).toBe(4);
  });
});

describe("plainDataProblem", () => {
  test("prototype keys at any depth, objects that are not plain, depth", () => {
    expect(plainDataProblem(JSON.parse('{"a":[{"b":{"__proto__":1}}]}'))).toEqual({ kind: "prototype-key", key: "__proto__", path: "a[0].b.__proto__" });
    expect(plainDataProblem({ constructor: 1 })).toMatchObject({ kind: "prototype-key", key: "constructor" });
    expect(plainDataProblem({ x: { prototype: {} } })).toMatchObject({ kind: "prototype-key", path: "x.prototype" });
    expect(plainDataProblem({ d: new Date() })).toEqual({ kind: "not-plain", path: "d" });
    const hijacked: Record<string, unknown> = {};
    Object.setPrototypeOf(hijacked, { sandbox_mode: "danger-full-access" });
    expect(plainDataProblem({ a: hijacked })).toEqual({ kind: "not-plain", path: "a" });
    expect(plainDataProblem({ a: [[[]]] }, { maxDepth: 3 })).toBeNull();
    expect(plainDataProblem({ a: [[[[]]]] }, { maxDepth: 3 })).toEqual({ kind: "too-deep", path: "a[0][0][0]" });
    expect(plainDataProblem(Object.assign(Object.create(null), { ok: 1 }))).toBeNull();
  });
});

describe("unknownKeyIssue", () => {
  const text = (key: string) => ({ code: "UNKNOWN_KEY", ignored: `unknown key "${key}" is ignored`, known: "known keys: …" });
  test("close to a limiting key: an error with the suggestion; close to another: a warning with it; far: a plain warning", () => {
    expect(unknownKeyIssue("sandbox_mod", ["model", "sandbox_mode"], ["sandbox_mode"], text("sandbox_mod"))).toMatchObject({ level: "error", field: "sandbox_mod", message: expect.stringContaining('did you mean "sandbox_mode"?') });
    expect(unknownKeyIssue("modle", ["model", "sandbox_mode"], ["sandbox_mode"], text("modle"))).toEqual({ level: "warning", code: "UNKNOWN_KEY", field: "modle", message: 'unknown key "modle" is ignored (did you mean "model"?); known keys: …' });
    expect(unknownKeyIssue("colour", ["model"], [], text("colour"))).toEqual({ level: "warning", code: "UNKNOWN_KEY", field: "colour", message: 'unknown key "colour" is ignored; known keys: …' });
    expect(unknownKeyIssue("__proto__", ["model"], [], text("__proto__"))).toBeNull();
  });
});

describe("splitFrontmatter: a line is what YAML calls a line", () => {
  test("LF, CRLF and CR end lines; U+2028, U+2029 and NEL do not", () => {
    expect(splitFrontmatter("---\na: 1\n---\nbody")).toMatchObject({ frontmatter: "a: 1\n", body: "body" });
    expect(splitFrontmatter("---\r\na: 1\r\n---\r\nbody")).toMatchObject({ frontmatter: "a: 1\r\n", body: "body" });
    expect(splitFrontmatter("---\ra: 1\r---\rbody")).toMatchObject({ frontmatter: "a: 1\r", body: "body" });
    for (const sep of ["\u2028", "\u2029", "\u0085"]) {
      // The hidden "---" is inside a line: the frontmatter runs on to the real closing line.
      expect(splitFrontmatter(`---\na: x${sep}---${sep}\nb: 2\n---\nbody`)).toMatchObject({ frontmatter: `a: x${sep}---${sep}\nb: 2\n`, body: "body" });
      expect(splitFrontmatter(`---${sep}a: 1\n---\nbody`)).toMatchObject({ frontmatter: null });
    }
  });
  test("a file that is only '---', or '---' with no line end, has no frontmatter; one BOM is skipped", () => {
    expect(splitFrontmatter("---")).toMatchObject({ frontmatter: null, body: "---" });
    expect(splitFrontmatter("\uFEFF---\na: 1\n---")).toMatchObject({ frontmatter: "a: 1\n", body: "" });
  });
});

describe("each format: line terminators, BOMs, duplicate keys, prototype keys, misspelt keys", () => {
  const md = (front: string, body = "You review.\n", inClaudeDir = false) => parseMarkdownAgent("a", "a.md", `${front}${body}`, { inClaudeDir });
  const json = (text: string) => parseJsonAgentFields(text);
  const role = (text: string) => parseCodexRoleAgent("r", "r.toml", text);

  test("YAML frontmatter", () => {
    expect(md("---\r\nsandbox_mode: read-only\r\n---\r\n").agent?.sandbox_mode).toBe("read-only");
    expect(md("\uFEFF---\nsandbox_mode: read-only\n---\n").agent?.sandbox_mode).toBe("read-only");
    for (const sep of ["\r", "\u2028", "\u2029", "\u0085"]) {
      expect(codes(md(`---\nsandbox_mode: workspace-write #${sep}sandbox_mode: read-only\n---\n`))).toEqual(["AMBIGUOUS_CHARACTER"]);
      // The Claude agent whose tools a hidden "---" would cut off.
      expect(codes(md(`---\nname: a\ndescription: d${sep}---${sep}\ntools: Read, Grep, Glob\n---\n`, "x", true))).toEqual(["AMBIGUOUS_CHARACTER"]);
      expect(codes(md(`---${sep}tools: Read\n---\n`, "x", true))).toEqual(["AMBIGUOUS_CHARACTER"]);
    }
    expect(codes(md("\uFEFF\uFEFF---\ntools: Read\n---\n", "x", true))).toEqual(["AMBIGUOUS_CHARACTER"]);
    expect(codes(md("---\ndescription: a\n\uFEFF---\ntools: Read\n---\n"))).toEqual(["AMBIGUOUS_CHARACTER"]);
    // In the persona (after the closing line) such characters are text.
    expect(md("---\nsandbox_mode: read-only\n---\n", "line\u2028sep\rcr\n").agent?.persona).toBe("line\u2028sep\rcr");
    expect(codes(md("---\nsandbox_mode: read-only\nsandbox_mode: workspace-write\n---\n"))).toEqual(["YAML_ERROR"]);
    expect(codes(md("---\ntimeout_s: 1\n1: x\n---\n"))).toEqual(["YAML_ERROR"]);
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expect(codes(md(`---\n${key}:\n  sandbox_mode: workspace-write\n---\n`))).toEqual(["PROTOTYPE_KEY"]);
      expect(codes(md(`---\nworktree_deps:\n  - path: a\n    ${key}: x\n---\n`))).toContain("PROTOTYPE_KEY");
      expect(codes(md(`---\nname: a\ntools: Read\nhooks:\n  ${key}: {}\n---\n`))).toEqual(["PROTOTYPE_KEY"]);
    }
    expect(md("---\nisolaton: worktree\nsandbox_mode: workspace-write\n---\n").issues).toEqual([expect.objectContaining({ level: "error", code: "UNKNOWN_KEY", field: "isolaton" })]);
    expect(md("---\nsandbox_mod: read-only\n---\n").issues[0]!.message).toContain('did you mean "sandbox_mode"?');
    expect(md("---\ndescripton: x\n---\n").issues).toEqual([expect.objectContaining({ level: "warning", message: expect.stringContaining('(did you mean "description"?)') })]);
    expect(md("---\nname: a\ntool: Read\n---\n").issues).toContainEqual(expect.objectContaining({ level: "error", code: "UNKNOWN_KEY", field: "tool" }));
    expect(md("---\nname: a\ntools: Read\npermisionMode: plan\n---\n").issues).toContainEqual(expect.objectContaining({ level: "error", field: "permisionMode" }));
  });

  test("JSON", () => {
    expect(json('{\r\n"sandbox_mode": "read-only",\r\n"persona": "x"\r\n}').settings.sandbox_mode).toBe("read-only");
    expect(json('\uFEFF{"sandbox_mode": "read-only", "persona": "x"}').settings.sandbox_mode).toBe("read-only");
    expect(codes(json('\uFEFF\uFEFF{"persona": "x"}'))).toEqual(["AMBIGUOUS_CHARACTER"]);
    for (const sep of ["\r", "\u2028", "\u2029", "\u0085"]) {
      expect(codes(json(`{"sandbox_mode": "workspace-write",${sep}"persona": "x"}`))).toEqual(["AMBIGUOUS_CHARACTER"]);
    }
    expect(codes(json('{"persona": "x\u2028y"}'))).toEqual(["AMBIGUOUS_CHARACTER"]);
    expect(json('{"persona": "x\\u2028y"}').persona).toBe("x\u2028y");
    const dup = json(`{"sandbox_mode": "read-only", "persona": "${"p".repeat(200)}", "sandbox_mode": "workspace-write"}`);
    expect(dup.usable).toBe(false);
    expect(dup.issues).toEqual([expect.objectContaining({ level: "error", code: "JSON_ERROR", message: expect.stringContaining('the key "sandbox_mode" appears twice') })]);
    expect(codes(json('{"persona": "x", "worktree_deps": [{"path": "a", "path": "b"}]}'))).toEqual(["JSON_ERROR"]);
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expect(codes(json(`{"persona": "x", "${key}": {"sandbox_mode": "workspace-write"}}`))).toEqual(["PROTOTYPE_KEY"]);
      expect(codes(json(`{"persona": "x", "worktree_deps": [{"path": "a", "${key}": 1}]}`))).toContain("PROTOTYPE_KEY");
    }
    expect(codes(json('{"persona": "x", "isolaton": "worktree"}'))).toEqual(["UNKNOWN_KEY"]);
  });

  test("TOML role files", () => {
    const head = 'developer_instructions = "x"\ndescription = "d"\n';
    expect(role(`${head}sandbox_mode = "read-only"\n`.replaceAll("\n", "\r\n")).agent?.sandbox_mode).toBe("read-only");
    expect(role(`\uFEFF${head}sandbox_mode = "read-only"\n`).agent?.sandbox_mode).toBe("read-only");
    expect(codes(role(`\uFEFF\uFEFF${head}`))).toEqual(["AMBIGUOUS_CHARACTER"]);
    // A lone CR is TOML's own error (smol-toml); the others ours.
    expect(codes(role(`${head}sandbox_mode = "workspace-write" #\rsandbox_mode = "read-only"\n`))).toEqual(["TOML_ERROR"]);
    for (const sep of ["\u2028", "\u2029", "\u0085"]) {
      expect(codes(role(`${head}sandbox_mode = "workspace-write" #${sep}sandbox_mode = "read-only"\n`))).toEqual(["AMBIGUOUS_CHARACTER"]);
    }
    expect(codes(role(`${head}sandbox_mode = "read-only"\nsandbox_mode = "workspace-write"\n`))).toEqual(["TOML_ERROR"]);
    const hidden = role(`${head}sandbox_mode = "read-only"\n[__proto__]\nmodel = "evil-model"\nsandbox_mode = "danger-full-access"\n`);
    expect(codes(hidden)).toEqual(["PROTOTYPE_KEY"]);
    expect(hidden.settings).toEqual({ description: "d", sandbox_mode: "read-only" });
    expect(role(`${head}sandbox_mod = "read-only"\n`).issues).toContainEqual(expect.objectContaining({ level: "error", code: "CODEX_KEY_NOT_PASSED", field: "sandbox_mod" }));
    expect(role(`${head}modle = "x"\n`).issues).toContainEqual(expect.objectContaining({ level: "warning", message: expect.stringContaining('did you mean "model"?') }));
  });
});
