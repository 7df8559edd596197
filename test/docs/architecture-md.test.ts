/**
 * docs/ARCHITECTURE.md and test/README.md are maps: every path they name exists, every function they place in a file is
 * defined there, every folder and every top-level file of src/ has its line, and each security rule's function is in
 * the file its row names. A folder, a file or a function that moves without the map fails here, naming it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { defines, namedPaths, placedIdentifiers } from "../helpers/doc-references.ts";
import { repoRoot } from "../helpers/paths.ts";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const architecture = read("docs/ARCHITECTURE.md");

/** The rows of the first table after `heading`, as cells without their backticks. */
function tableAfter(text: string, heading: string): string[][] {
  const rest = text.slice(text.indexOf(heading));
  const lines = rest.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

for (const doc of ["docs/ARCHITECTURE.md", "test/README.md"]) {
  describe(`${doc} names only what exists`, () => {
    test("every path it names exists", () => {
      const paths = namedPaths(read(doc));
      expect(paths.length).toBeGreaterThan(20);
      expect(paths.filter((p) => !existsSync(path.join(repoRoot, p)))).toEqual([]);
    });

    test("every function or constant it places in a source file is defined there", () => {
      const wrong = placedIdentifiers(read(doc)).filter(({ name, file }) => !existsSync(path.join(repoRoot, file)) || !defines(read(file), name));
      expect(wrong.map(({ name, file }) => `${name} in ${file}`)).toEqual([]);
    });
  });
}

describe("docs/ARCHITECTURE.md is a whole map of src/", () => {
  test("one line per folder of src/, and no line for a folder that is gone", () => {
    const named = tableAfter(architecture, "## The folders of src/").map((row) => backticked(row[0]!)[0]);
    const folders = readdirSync(path.join(repoRoot, "src"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}`).sort();
    expect([...named].sort()).toEqual(folders);
  });

  test("every file at the top of src/ is named, and nothing else is", () => {
    const named = tableAfter(architecture, "Files at the top of `src/`").flatMap((row) => backticked(row[0]!));
    const files = readdirSync(path.join(repoRoot, "src"), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => `src/${e.name}`).sort();
    expect([...named].sort()).toEqual(files);
  });

  test("each security rule's function is defined in the file its row names", () => {
    const rows = tableAfter(architecture, "## Where each security rule lives");
    expect(rows.length).toBeGreaterThanOrEqual(40);
    const wrong = rows.filter((row) => {
      const [file] = backticked(row[1]!);
      const [name] = backticked(row[2]!);
      return !file || !name || !existsSync(path.join(repoRoot, file)) || !defines(read(file), name);
    });
    expect(wrong.map((row) => row.join(" | "))).toEqual([]);
  });
});
