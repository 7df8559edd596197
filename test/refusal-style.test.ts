// Every refusal in src/ says what is wrong in its message and the next step in its `hint` (age's errorWithHint): the
// CLI prints the hint on its own `hint:` line and a tool's isError text after "\nhint: " (src/errors.ts). This walks
// src/ with the TypeScript parser and fails when a refusal's message still carries the next step the old way, after
// a ";", " — ", ", or " or "e.g.". A heuristic over the message's literal text: each exception is in ALLOWED with why.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "./helpers/paths.ts";

const SRC = path.join(repoRoot, "src");

/** Imperative verbs a next step starts with ("run" not as the noun of "run ids", "run records"). */
const VERBS = [
  "add", "ask", "build", "call", "check", "choose", "collect", "commit", "create", "do", "drop", "edit", "end", "fix",
  "flatten", "give", "install", "leave", "list", "look", "make", "name", "pass", "pick", "point", "quote", "raise",
  "reinstall", "remove", "restart", "restore", "resume", "retry", String.raw`run(?!\s+(?:ids?|records?)\b)`, "say", "see",
  "set", "shorten", "start", "try", "use", "wait", "write",
];
/** A next step appended to a message: a separator, then an imperative (or an example of what to write). */
const NEXT_STEP = new RegExp(
  String.raw`(?:[;.:]\s+|\s+—\s+(?:or\s+)?|,\s+or\s+|\(or\s+)(?:${VERBS.join("|")})\b|,\s+(?:retry|see)\b|[;,]\s+e\.g\.|;\s+usage:|\buse:`,
  "i",
);
/** A message that ends in "; " and a substituted value: the next step is in a variable the parser cannot read. */
const STEP_IN_VARIABLE = /;\s*\$\{…\}$/;

/**
 * Justified exceptions, by file and a piece of the message. Each says why the words are not a next step, or why the
 * next step stays in the message.
 */
const ALLOWED: ReadonlyArray<{ file: string; contains: string; why: string }> = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

const parsed = sourceFiles(SRC).map((file) => ({
  file: path.relative(repoRoot, file),
  source: ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true),
}));

function visitAll(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => visitAll(child, visit));
}

/** Refusal and every class in src/ that extends it, however many steps removed. */
function refusalClasses(sources: ReadonlyArray<ts.SourceFile>): Set<string> {
  const parents = new Map<string, string>();
  for (const source of sources) {
    visitAll(source, (node) => {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      const extended = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
      if (extended && ts.isIdentifier(extended)) parents.set(node.name.text, extended.text);
    });
  }
  const classes = new Set(["Refusal"]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (classes.has(parent) && !classes.has(child)) {
        classes.add(child);
        grew = true;
      }
    }
  }
  return classes;
}

/**
 * The literal pieces of a message expression, as written: a template's text with `${…}` where a value goes, and the
 * strings of a concatenation or a conditional. Calls are not entered (their strings are arguments, not the message).
 */
function messagePieces(expression: ts.Expression): string[] {
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return [expression.text];
  if (ts.isTemplateExpression(expression)) {
    const text = expression.head.text + expression.templateSpans.map((span) => "${…}" + span.literal.text).join("");
    const inner = expression.templateSpans.flatMap((span) => messagePieces(span.expression));
    return [text, ...inner];
  }
  if (ts.isParenthesizedExpression(expression)) return messagePieces(expression.expression);
  if (ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = messagePieces(expression.left);
    const right = messagePieces(expression.right);
    return [...left, ...right, [...left, ...right].join("")];
  }
  if (ts.isBinaryExpression(expression) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(expression.operatorToken.kind)) {
    return [...messagePieces(expression.left), ...messagePieces(expression.right)];
  }
  if (ts.isConditionalExpression(expression)) return [...messagePieces(expression.whenTrue), ...messagePieces(expression.whenFalse)];
  return [];
}

/** What is wrong with one message's pieces, or null. */
function oldStyle(pieces: readonly string[]): string | null {
  for (const piece of pieces) {
    const step = NEXT_STEP.exec(piece);
    if (step) return `next step in the message: "…${piece.slice(Math.max(0, step.index - 30), step.index + 40)}…"`;
    if (STEP_IN_VARIABLE.test(piece)) return `ends in "; " and a value: "…${piece.slice(-40)}"`;
  }
  return null;
}

/**
 * Every refusal message in src/: the first argument of `new X(…)` for a refusal class, and the `message` of an object
 * literal with no other key than `message` and `hint` (what a helper returns for its caller to wrap).
 */
function refusalMessages(): Array<{ file: string; line: number; pieces: string[] }> {
  const classes = refusalClasses(parsed.map((p) => p.source));
  const found: Array<{ file: string; line: number; pieces: string[] }> = [];
  for (const { file, source } of parsed) {
    const at = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    visitAll(source, (node) => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && classes.has(node.expression.text) && node.arguments?.[0]) {
        found.push({ file, line: at(node), pieces: messagePieces(node.arguments[0]) });
      }
      if (ts.isObjectLiteralExpression(node)) {
        const keys = node.properties.map((p) => (p.name && ts.isIdentifier(p.name) ? p.name.text : ""));
        const message = node.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "message");
        if (message && ts.isPropertyAssignment(message) && keys.every((k) => k === "message" || k === "hint")) {
          found.push({ file, line: at(node), pieces: messagePieces(message.initializer) });
        }
      }
    });
  }
  return found;
}

describe("refusals keep the next step in hint", () => {
  const messages = refusalMessages();

  test("the walk finds the refusals of src/ (a walk that finds none would pass every tree)", () => {
    expect(messages.length).toBeGreaterThan(100);
    expect(refusalClasses(parsed.map((p) => p.source))).toEqual(new Set([
      "Refusal", "UsageError", "NotFoundError", "AgentsDirError", "RunNotFound", "PolicyError", "WorkspaceError", "DelegateError",
    ]));
  });

  test("no refusal message carries its next step after a ';', ' — ', ', or …' or 'e.g.'", () => {
    const offenders = messages.flatMap(({ file, line, pieces }) => {
      if (ALLOWED.some((a) => a.file === file && pieces.some((p) => p.includes(a.contains)))) return [];
      const problem = oldStyle(pieces);
      return problem ? [`${file}:${line}: ${problem}`] : [];
    });
    expect(offenders).toEqual([]);
  });

  test("every allowed exception still matches a refusal (a stale entry hides nothing)", () => {
    const stale = ALLOWED.filter((a) => !messages.some((m) => m.file === a.file && m.pieces.some((p) => p.includes(a.contains))));
    expect(stale).toEqual([]);
  });
});

describe("the heuristic itself", () => {
  const piecesOf = (code: string) => {
    const source = ts.createSourceFile("x.ts", `const m = ${code};`, ts.ScriptTarget.Latest, true);
    const statement = source.statements[0] as ts.VariableStatement;
    return messagePieces(statement.declarationList.declarations[0]!.initializer!);
  };

  test.each([
    ['`cwd "${cwd}" is not a directory; pass a directory`'],
    ['"task is over 1 MiB; shorten it"'],
    ['`unknown option "${flag}" — or use --help`'],
    ['`unexpected argument "${word}"; serve takes only options, see codex-subagents --help`'],
    ['`could not take a place in the queue; nothing ran, retry`'],
    ['`list takes no arguments; to check a directory use: codex-subagents validate DIR`'],
    ['`x is wrong, or use isolation "none"`'],
    ['`runs show takes one RUN_ID, got ${n}; e.g. codex-subagents runs show ID`'],
    ['`no run "${id}". List recent ones with: codex-subagents runs`'],
    ['`root "${entry}" is wrong; ${hint}`'],
    ['"a is " + (ok ? "fine" : "bad; use b")'],
  ])("flags %s", (code) => {
    expect(oldStyle(piecesOf(code))).not.toBeNull();
  });

  test.each([
    ['`cwd "${cwd}" is not a directory`'],
    ['`agent "${name}": ${problem}`'],
    ['`unknown agent "${name}"; known: ${known.join(", ")}`'],
    ['`--limit must be a whole number from 1 to 100000, got "${raw}"`'],
    ['`could not list: ${problems.join("; use ")}`'],
    ['`agent "${name}" is a registry agent; ${keys.join(", ")} cannot be set per call`'],
    ['`unknown command "${first}"; commands: serve, list, validate, run`'],
    ['`"${id}" is not a run id; run ids look like 2026…`'],
  ])("passes %s", (code) => {
    expect(oldStyle(piecesOf(code))).toBeNull();
  });
});
