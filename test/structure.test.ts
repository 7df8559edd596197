// The shape of src/ a maintainer can find their way in: no file over MAX_LINES lines, and no import cycle between
// modules, type-only imports included (two modules that import each other's types still cannot be read one before the
// other). And comments a maintainer can follow, in src/, test/, bench/ and build.ts: each source file a comment names
// exists, and none points to a ticket or a document that is not in this repository (an issue number, a section of a
// spec kept elsewhere): a comment says the threat or the rule instead. Every offender is named, so one failing run
// lists all that is left to do.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "./helpers/paths.ts";

const SRC = path.join(repoRoot, "src");
const MAX_LINES = 450;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [full] : [];
  });
}

/**
 * The relative modules `file` imports or re-exports statically (`import`, `import type`, `export … from`), as
 * absolute paths. Read by the TypeScript parser, so a comment or a string that looks like an import is not one.
 */
function importsOf(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const targets: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith(".")) {
      targets.push(path.resolve(path.dirname(file), specifier.text));
    }
  }
  return targets;
}

/** Tarjan's strongly connected components; the ones with more than one module (or a module importing itself) are cycles. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) lowLink.set(node, Math.min(lowLink.get(node)!, index.get(next)!));
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || graph.get(node)?.includes(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One shortest way round a cycle, from its first module back to it: `a → b → a`. */
function pathRound(graph: ReadonlyMap<string, readonly string[]>, component: readonly string[]): string[] {
  const start = component[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let at = 0; at < queue.length; at += 1) {
    const node = queue[at]!;
    for (const next of graph.get(node) ?? []) {
      if (next === start) {
        const way = [node];
        while (way[0] !== start) way.unshift(cameFrom.get(way[0]!)!);
        return [...way, start];
      }
      if (component.includes(next) && !cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [...component, start];
}

/**
 * Every comment of a source file, with the line it starts on. Read by the TypeScript parser, so a `//` in a string or
 * a URL is not one.
 */
function commentsOf(file: string, text: string): Array<{ line: number; text: string }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = new Map<number, string>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) found.set(range.pos, text.slice(range.pos, range.end));
  };
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(text, node.getFullStart()));
    collect(ts.getTrailingCommentRanges(text, node.getEnd()));
    for (const child of node.getChildren(source)) visit(child);
  };
  visit(source);
  return [...found].sort(([a], [b]) => a - b).map(([pos, body]) => ({ line: source.getLineAndCharacterOfPosition(pos).line + 1, text: body }));
}

/** A pointer to a ticket, or to a document kept outside this repository. */
const TICKET = /\b[Ii]ssues? \d+|\b[Ff]inding [A-Z0-9]{1,2}[a-z]?\b|\b[Rr]eview finding|\bSPEC §|\b(?:SPEC|STYLE|CODEX-FACTS|CLIENT-FACTS|BUN-FACTS)(?:\.md)?\b/;

/** A TypeScript file as a comment names it: `policy/roots.ts`, `spares.ts`, `test/helpers/paths.ts`. */
const TS_PATH = /(?<![\w.\/-])((?:[\w.-]+\/)*[\w-]+(?:\.[\w-]+)*\.ts)\b/g;

/** Whether a path a comment names is a file of this repository: as written from the root, or the end of one's path. */
function namesAFile(named: string, all: readonly string[]): boolean {
  return all.some((file) => file === named || file.endsWith(`/${named}`));
}

const files = sourceFiles(SRC);
const texts = new Map(files.map((file) => [file, readFileSync(file, "utf8")]));
const name = (file: string) => path.relative(repoRoot, file);
const graph = new Map(files.map((file) => [file, importsOf(file, texts.get(file)!)]));

describe("the structure of src/", () => {
  test(`no file is longer than ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file: name(file), lines: texts.get(file)!.split("\n").length - (texts.get(file)!.endsWith("\n") ? 1 : 0) }))
      .filter((entry) => entry.lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map((entry) => `${entry.file} (${entry.lines} lines)`);
    expect(long).toEqual([]);
  });

  test("no import cycle, type-only imports included", () => {
    const cycles = cyclesOf(graph).map((component) => pathRound(graph, component).map(name).join(" → "));
    expect(cycles).toEqual([]);
  });
});

const commented = [...["src", "test", "bench"].flatMap((dir) => sourceFiles(path.join(repoRoot, dir))), path.join(repoRoot, "build.ts")];
const comments = commented.flatMap((file) => commentsOf(file, readFileSync(file, "utf8")).map((comment) => ({ ...comment, file: name(file) })));

describe("the comments of src/, test/, bench/ and build.ts", () => {
  test("each TypeScript file a comment names exists", () => {
    const all = commented.map(name);
    const missing = comments.flatMap((comment) =>
      [...comment.text.matchAll(TS_PATH)].map((m) => m[1]!).filter((named) => !namesAFile(named, all)).map((named) => `${comment.file}:${comment.line}: ${named}`));
    expect(missing).toEqual([]);
  });

  test("no comment points to a ticket or a document outside the repository", () => {
    const pointers = comments.filter((comment) => TICKET.test(comment.text)).map((comment) => `${comment.file}:${comment.line}: ${comment.text.match(TICKET)![0]}`);
    expect(pointers).toEqual([]);
  });
});

describe("the checks themselves", () => {
  test("static imports of every kind are edges; dynamic imports, packages, comments and strings are not", () => {
    const text = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      'import "./side-effect.ts";',
      'export { c } from "./c.ts";',
      'export type { D } from "./d/index.ts";',
      'export * from "./e.ts";',
      'import ts from "typescript";',
      '// import { f } from "./commented.ts";',
      'const g = "import { g } from \'./string.ts\'";',
      'const h = await import("./dynamic.ts");',
    ].join("\n");
    expect(importsOf("/repo/src/x/file.ts", text)).toEqual([
      "/repo/src/x/a.ts", "/repo/src/b.ts", "/repo/src/x/side-effect.ts", "/repo/src/x/c.ts", "/repo/src/x/d/index.ts", "/repo/src/x/e.ts",
    ]);
  });

  test("every cycle is found and named by a way round it; a chain or a diamond is not a cycle", () => {
    const graph = new Map<string, string[]>([
      ["a", ["b"]], ["b", ["c"]], ["c", ["a", "d"]], // a → b → c → a
      ["d", ["e"]], ["e", ["d"]], // d ⇄ e
      ["f", ["f"]], // a module importing itself
      ["g", ["h", "i"]], ["h", ["j"]], ["i", ["j"]], ["j", []], // a diamond
    ]);
    const cycles = cyclesOf(graph);
    expect(cycles).toEqual([["a", "b", "c"], ["d", "e"], ["f"]]);
    expect(cycles.map((component) => pathRound(graph, component).join(" → "))).toEqual(["a → b → c → a", "d → e → d", "f → f"]);
  });

  test("comments are what the parser calls comments; a `//` in a string or a template is not one", () => {
    const text = [
      "// one",
      "/** two */",
      'const url = "http://example.com/a.ts";',
      "const t = `${url} // not a comment`; // three",
      "function f() {",
      "  return 1;",
      "  /* four, before the brace */",
      "}",
    ].join("\n");
    expect(commentsOf("/repo/src/x.ts", text)).toEqual([
      { line: 1, text: "// one" }, { line: 2, text: "/** two */" }, { line: 4, text: "// three" }, { line: 7, text: "/* four, before the brace */" },
    ]);
  });

  test("a ticket pointer is an issue number, a finding's letter or a spec kept elsewhere; plain words are not", () => {
    for (const pointer of ["Hook (issue 13)", "Issue 16: a grant", "(issue 8 B)", "security review finding B", "Finding 5a: a", "SPEC §2", "see CODEX-FACTS", "STYLE.md"]) {
      expect(TICKET.test(pointer)).toBe(true);
    }
    for (const plain of ["r.issues", "the issues it found", "finding a root", "finding codex", "the MCP spec says so", "specVersion"]) {
      expect(TICKET.test(plain)).toBe(false);
    }
  });

  test("a named file exists as written from the root, or as the end of a file's path", () => {
    const all = ["src/policy/roots.ts", "test/helpers/paths.ts"];
    expect(["src/policy/roots.ts", "policy/roots.ts", "roots.ts", "helpers/paths.ts"].every((named) => namesAFile(named, all))).toBe(true);
    expect(["codex/capability-args.ts", "oots.ts", "src/roots.ts"].some((named) => namesAFile(named, all))).toBe(false);
  });
});
