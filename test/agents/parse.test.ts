import { describe, expect, test } from "bun:test";
import { parseJsonAgentFields, parseMarkdownAgent, splitFrontmatter } from "../../src/agents/parse.ts";

const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);

describe("markdown agents", () => {
  test("frontmatter settings and persona body", () => {
    const r = parseMarkdownAgent("review", "review.md", "---\ndescription: Reviews code\nsandbox_mode: read-only\nreasoning_effort: high\ntimeout_s: 60\n---\nYou review.\n");
    expect(r.issues).toEqual([]);
    expect(r.agent).toEqual({ name: "review", file: "review.md", persona: "You review.", description: "Reviews code", sandbox_mode: "read-only", reasoning_effort: "high", timeout_s: 60 });
  });

  test("no frontmatter: the whole file is the persona", () => {
    expect(parseMarkdownAgent("plain", "plain.md", "Just do it.\n").agent?.persona).toBe("Just do it.");
  });

  test("unknown key is a warning, the agent still loads", () => {
    const r = parseMarkdownAgent("a", "a.md", "---\ncolour: blue\n---\nx");
    expect(codes(r)).toEqual(["UNKNOWN_KEY"]);
    expect(r.issues[0]!.level).toBe("warning");
    expect(r.agent).toBeDefined();
  });

  test.each([
    ["sandbox_mode: full", "sandbox_mode", "read-only, workspace-write, danger-full-access"],
    ["approval_policy: always", "approval_policy", "never, on-request"],
    ["reasoning_effort: max", "reasoning_effort", "minimal"],
    ["isolation: docker", "isolation", "worktree"],
    ["timeout_s: 1.5", "timeout_s", "positive whole number"],
    ["timeout_s: 0", "timeout_s", "positive whole number"],
    ["profile: ../../etc", "profile", "profile"],
    ["model: 'gpt 5; rm -rf'", "model", "model"],
    ["description: [a, b]", "description", "description"],
  ])("bad value %s is an error naming the field and the allowed values", (line, field, hint) => {
    const r = parseMarkdownAgent("a", "a.md", `---\n${line}\n---\nx`);
    expect(r.agent).toBeUndefined();
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ level: "error", code: "INVALID_VALUE", field });
    expect(r.issues[0]!.message).toContain(hint);
  });

  test("approval_policy untrusted (refused by codex at every run) is an error saying what to use instead", () => {
    const r = parseMarkdownAgent("a", "a.md", "---\napproval_policy: untrusted\n---\nx");
    expect(r.agent).toBeUndefined();
    expect(r.issues).toEqual([expect.objectContaining({ level: "error", code: "UNSUPPORTED_APPROVAL_POLICY", field: "approval_policy" })]);
    expect(r.issues[0]!.message).toContain('use "on-request"');
    expect(r.issues[0]!.message).toContain('or "never"');
    const json = parseJsonAgentFields(JSON.stringify({ persona: "x", approval_policy: "untrusted" }));
    expect(codes(json)).toEqual(["UNSUPPORTED_APPROVAL_POLICY"]);
    // The list of values to use no longer offers it.
    expect(parseMarkdownAgent("a", "a.md", "---\napproval_policy: always\n---\nx").issues[0]!.message).toEndWith("use one of: never, on-request, on-failure");
  });

  test("empty persona is an error", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", "---\ndescription: x\n---\n  \n"))).toEqual(["EMPTY_PERSONA"]);
  });

  test("persona over 64 KiB is an error", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", "x".repeat(64 * 1024 + 1)))).toEqual(["PERSONA_TOO_LARGE"]);
  });

  test("unclosed frontmatter and bad YAML are errors with a hint", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", "---\ndescription: x\nbody"))).toEqual(["FRONTMATTER_UNCLOSED"]);
    const bad = parseMarkdownAgent("a", "a.md", "---\ndescription: x\n  : : [\n---\nbody");
    expect(codes(bad)).toEqual(["YAML_ERROR"]);
    expect(bad.issues[0]!.message).toContain("line");
  });

  test("billion laughs: aliases are refused before expansion", () => {
    const bomb = "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\nx";
    const r = parseMarkdownAgent("a", "a.md", bomb);
    expect(codes(r)).toEqual(["YAML_ERROR"]);
    expect(r.issues[0]!.message).toContain("alias");
  });

  test("frontmatter over 16 KiB is refused without parsing", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", `---\ndescription: ${"y".repeat(17 * 1024)}\n---\nx`))).toEqual(["FRONTMATTER_TOO_LARGE"]);
  });

  test("duplicate keys are a YAML error", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", "---\nmodel: a\nmodel: b\n---\nx"))).toEqual(["YAML_ERROR"]);
  });

  test("a name that breaks the rule is an error", () => {
    expect(codes(parseMarkdownAgent("Review", "Review.md", "x"))).toEqual(["INVALID_NAME"]);
    expect(codes(parseMarkdownAgent("-x", "-x.md", "x"))).toEqual(["INVALID_NAME"]);
    expect(codes(parseMarkdownAgent("a".repeat(65), "long.md", "x"))).toEqual(["INVALID_NAME"]);
  });

  test("frontmatter that is a list, not a mapping", () => {
    expect(codes(parseMarkdownAgent("a", "a.md", "---\n- a\n- b\n---\nx"))).toEqual(["YAML_ERROR"]);
  });

  test("CRLF files and a BOM work", () => {
    const r = parseMarkdownAgent("a", "a.md", "\uFEFF---\r\nmodel: gpt-5\r\n---\r\nPersona\r\n");
    expect(r.agent).toMatchObject({ model: "gpt-5", persona: "Persona" });
  });

  test("splitFrontmatter keeps --- inside the body", () => {
    expect(splitFrontmatter("---\na: 1\n---\nbody\n---\nmore")).toEqual({ frontmatter: "a: 1\n", body: "body\n---\nmore", head: "---\na: 1\n---\n" });
  });
});

describe("json agents", () => {
  test("settings plus persona", () => {
    const r = parseJsonAgentFields('{"persona":"hi","model":"gpt-5","sandbox_mode":"read-only"}');
    expect(r).toMatchObject({ usable: true, persona: "hi", settings: { model: "gpt-5", sandbox_mode: "read-only" }, issues: [] });
  });
  test("personaFile is passed on for the registry to resolve", () => {
    expect(parseJsonAgentFields('{"personaFile":"p/review.txt"}').personaFile).toBe("p/review.txt");
  });
  test("both, neither, bad JSON, too deep", () => {
    expect(codes(parseJsonAgentFields('{"persona":"a","personaFile":"b"}'))).toEqual(["PERSONA_CONFLICT"]);
    expect(codes(parseJsonAgentFields("{}"))).toEqual(["EMPTY_PERSONA"]);
    expect(codes(parseJsonAgentFields("{nope"))).toEqual(["JSON_ERROR"]);
    expect(codes(parseJsonAgentFields("[1]"))).toEqual(["JSON_ERROR"]);
    expect(codes(parseJsonAgentFields(`{"x":${"[".repeat(50)}${"]".repeat(50)}}`))).toEqual(["JSON_TOO_DEEP"]);
  });
});

describe("worktree_deps", () => {
  test("auto, a list of names, and entries with a mode are valid", () => {
    expect(parseMarkdownAgent("t", "t.md", "---\nworktree_deps: auto\n---\nx").agent?.worktree_deps).toBe("auto");
    const listed = parseMarkdownAgent("t", "t.md", "---\nworktree_deps: [node_modules, {path: .venv, mode: copy}]\n---\nx");
    expect(listed.issues).toEqual([]);
    expect(listed.agent?.worktree_deps).toEqual(["node_modules", { path: ".venv", mode: "copy" }]);
  });
  test("anything else is an error that says what to write", () => {
    for (const bad of ["yes", "[{path: x, mode: move}]", "[{path: x, extra: 1}]", "42"]) {
      const r = parseMarkdownAgent("t", "t.md", `---\nworktree_deps: ${bad}\n---\nx`);
      expect(r.agent).toBeUndefined();
      expect(r.issues[0]).toMatchObject({ level: "error", field: "worktree_deps" });
      expect(r.issues[0]!.message).toMatch(/^worktree_deps .* is not valid: /);
      if (bad === "yes" || bad === "42") expect(r.issues[0]!.message).toContain('"auto" or a list of directory names');
    }
  });
});
