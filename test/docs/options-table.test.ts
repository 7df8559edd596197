// One options table: SERVER_OPTIONS drives parsing, --help, doctor's sources, and the docs' tables must say the same
// flags, variables and defaults. Adding an option is one row in src/config.ts, and this test names every doc row that
// is missing or says something else.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { USAGE } from "../../src/cli.ts";
import { parseServerOptions, SERVER_OPTIONS, serverOptionsHelp } from "../../src/config.ts";

const repoRoot = path.resolve(import.meta.dir, "..", "..");
const rows = Object.values(SERVER_OPTIONS);

interface DocRow {
  flag: string;
  metavar: string;
  env: string;
  defaultCell: string;
}

/** The rows of the markdown table under `## Server options` in a document. */
function docTable(file: string): DocRow[] {
  const text = readFileSync(path.join(repoRoot, file), "utf8");
  const section = text.slice(text.indexOf("\n## Server options"));
  const body = section.slice(0, section.indexOf("\n## ", 1));
  const lines = body.split("\n").filter((l) => l.startsWith("| `--"));
  return lines.map((line) => {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const [flag, metavar] = /`([^`]+)`/.exec(cells[0]!)![1]!.split(" ");
    return { flag: flag!, metavar: metavar ?? "", env: /`([^`]+)`/.exec(cells[1]!)?.[1] ?? "", defaultCell: cells[2]!.replaceAll("`", "") };
  });
}

/** "1800" matches "1800" and "1800; the longest…", not "18000". */
function startsWithDefault(cell: string, defaultText: string): boolean {
  return cell === defaultText || (cell.startsWith(defaultText) && !/^[A-Za-z0-9]/.test(cell.slice(defaultText.length)));
}

describe("the docs' option tables match SERVER_OPTIONS", () => {
  for (const file of ["README.md", "docs/INTEGRATION.md"]) {
    test(`${file}: every option once, with its variable and default`, () => {
      const documented = docTable(file);
      expect(documented.map((r) => r.flag).sort()).toEqual(rows.map((r) => r.flag).sort());
      for (const row of rows) {
        const doc = documented.find((d) => d.flag === row.flag)!;
        expect({ flag: doc.flag, metavar: doc.metavar, env: doc.env }).toEqual({ flag: row.flag, metavar: row.metavar, env: row.env });
        if (!startsWithDefault(doc.defaultCell, row.defaultText)) throw new Error(`${file}: ${row.flag}: the default says "${doc.defaultCell}", the table says "${row.defaultText}"`);
      }
    });
  }

  test("docs/OPERATIONS.md has no options table of its own to drift (it links to INTEGRATION)", () => {
    expect(docTable("docs/OPERATIONS.md")).toEqual([]);
  });
});

describe("--help is generated from the table", () => {
  test("every option's flag, variable and default are in the usage text, in the table's order", () => {
    expect(USAGE).toContain(serverOptionsHelp());
    for (const row of rows) {
      expect(USAGE).toMatch(new RegExp(`\\n  ${row.flag} ${row.metavar} +${row.env} +${row.defaultText.replace(/[$.*+?()[\]{}|\\^]/g, "\\$&")};`));
    }
  });

  test("numeric defaults are the values parsing gives when nothing is set", () => {
    const defaults = parseServerOptions([], { HOME: "/h" }, "/w") as unknown as Record<string, unknown>;
    for (const [name, row] of Object.entries(SERVER_OPTIONS)) {
      if (typeof defaults[name] === "number") expect(String(defaults[name])).toBe(row.defaultText);
    }
  });
});
