// What a document of ours names in the code, read from its text, so a test can check that each name still exists: the
// paths it gives in backticks, the functions and constants it places in a file, and the tests it cites as proof.
// Pure: text in, references out.

/** A path of this repository as the docs write it in backticks: under src/, test/, bench/ or agents/, or build.ts. */
const PATH_IN_BACKTICKS = /`((?:src|test|bench|agents|docs)\/[A-Za-z0-9_./-]*[A-Za-z0-9_/]|build\.ts)`/g;

/** Every repository path the text names in backticks, once each, in order. */
export function namedPaths(text: string): string[] {
  return [...new Set([...text.matchAll(PATH_IN_BACKTICKS)].map((m) => m[1]!.replace(/\/$/, "")))];
}

/** An identifier as code spells it: `planDelegation`, `SAFETY_CONFIG`, `TreeLock`. */
const IDENTIFIER = String.raw`[A-Za-z_$][A-Za-z0-9_$]*`;
/**
 * Identifiers in backticks placed in a source file: "`a` (`src/errors.ts`)", "`a`, `src/errors.ts`", "`a` and `b`,
 * `src/errors.ts`", "`a`, `b` (`src/errors.ts`)". Line breaks count as spaces.
 */
const PLACED = new RegExp(String.raw`((?:\`${IDENTIFIER}\`(?:,? and |, ))*\`${IDENTIFIER}\`)(?:,| \() ?\`((?:src|test)/[A-Za-z0-9_./-]+\.ts)\``, "g");

/** Each identifier the text places in a file of src/ or test/, with that file. */
export function placedIdentifiers(text: string): Array<{ name: string; file: string }> {
  const flat = text.replace(/\s+/g, " ");
  const found: Array<{ name: string; file: string }> = [];
  for (const m of flat.matchAll(PLACED)) {
    for (const name of m[1]!.match(new RegExp(`\`${IDENTIFIER}\``, "g")) ?? []) found.push({ name: name.slice(1, -1), file: m[2]! });
  }
  return found;
}

/** Whether `source` defines `name`: a function, class, constant, type or interface of that name, or a method. */
export function defines(source: string, name: string): boolean {
  const escaped = name.replace(/\$/g, "\\$");
  return new RegExp(String.raw`(?:function\*?|class|const|let|interface|type|enum)\s+${escaped}\b|^\s*(?:async\s+|static\s+|readonly\s+|private\s+)*${escaped}\s*[(<:=]`, "m").test(source);
}

/** A proof line: "- `test/errors.test.ts` (a remark): "a title"; "another title"". */
export interface Proof {
  file: string;
  titles: string[];
  line: number;
}

/** Every proof line of the text: a list item that starts with a test file in backticks, and the titles it quotes. */
export function proofLines(text: string): Proof[] {
  const proofs: Proof[] = [];
  text.split("\n").forEach((line, index) => {
    const m = /^\s*- `(test\/[^`]+\.test\.ts)`(.*)$/.exec(line);
    if (!m) return;
    const titles = [...m[2]!.matchAll(/"([^"]+)"/g)].map((t) => t[1]!);
    proofs.push({ file: m[1]!, titles, line: index + 1 });
  });
  return proofs;
}

/** Whether `source` (a test file) holds `title` as a string literal: a describe or test name as written. */
export function holdsTitle(source: string, title: string): boolean {
  return [`"${title}"`, `'${title}'`, `\`${title}\``].some((quoted) => source.includes(quoted));
}
