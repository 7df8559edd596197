// The shape of src/ a maintainer can find their way in: no file over MAX_LINES lines, and no import cycle between
// modules, type-only imports included (two modules that import each other's types still cannot be read one before
// the other). Every offender is named, so one failing run lists all that is left to do.
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
});
