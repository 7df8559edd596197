import { describe, expect, test } from "bun:test";
import { findEntry, formatChecksums, parseChecksums } from "../../src/verify/checksums.ts";
import { buildSbom, packageDirOf, purlOf, vendoredPackagesOf, type Lockfile } from "../../src/verify/sbom.ts";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

describe("checksums.txt", () => {
  test("reads sha256sum text and binary-mode lines, reports malformed ones", () => {
    const parsed = parseChecksums(`${HASH_A}  codex-subagents-linux-x64\n${HASH_B} *codex-subagents.mjs\nnot a line\n\n`);
    expect(parsed.entries.map((e) => [e.name, e.line])).toEqual([["codex-subagents-linux-x64", 1], ["codex-subagents.mjs", 2]]);
    expect(parsed.malformed).toEqual([3]);
  });

  test("looks up the embedded asset name first, then the file's own name", () => {
    const parsed = parseChecksums(`${HASH_A}  codex-subagents-linux-x64\n${HASH_B}  codex-subagents\n`);
    expect(findEntry(parsed, ["codex-subagents-linux-x64", "codex-subagents"])).toMatchObject({ matchedBy: "codex-subagents-linux-x64", entry: { sha256: HASH_A } });
    expect(findEntry(parsed, ["codex-subagents-darwin-x64", "codex-subagents"])).toMatchObject({ matchedBy: "codex-subagents", entry: { sha256: HASH_B } });
    expect(findEntry(parsed, ["nothing"])).toBeNull();
  });

  test("two lines for one asset are ambiguous, not first-wins", () => {
    const parsed = parseChecksums(`${HASH_A}  x\n${HASH_B}  x\n`);
    expect(findEntry(parsed, ["x"])).toMatchObject({ ambiguous: [{ line: 1 }, { line: 2 }] });
  });

  test("writes sorted sha256sum format", () => {
    expect(formatChecksums([{ name: "b", sha256: HASH_B }, { name: "a", sha256: HASH_A }])).toBe(`${HASH_A}  a\n${HASH_B}  b\n`);
  });
});

describe("SBOM from the metafile and the lockfile", () => {
  const lockfile: Lockfile = {
    packages: {
      "": {},
      "node_modules/@scope/pkg": { version: "1.2.3", integrity: "sha512-AAAA", license: "MIT", dependencies: { dep: "^2" }, resolved: "https://registry.example/pkg.tgz" },
      "node_modules/dep": { version: "2.0.0", integrity: "sha512-AQID", license: "ISC" },
      "node_modules/@scope/pkg/node_modules/dep": { version: "1.0.0", integrity: "sha512-BAUG", license: "(MIT OR Apache-2.0)" },
      "node_modules/devtool": { version: "9.9.9", dev: true },
    },
  };
  const base = { name: "codex-subagents", version: "0.1.0", asset: "codex-subagents.mjs", lockfile, directDependencies: ["@scope/pkg"], bunVersion: "1.4.5" };

  test("finds the package of each bundled file, nested ones included", () => {
    expect(packageDirOf("../../node_modules/@scope/pkg/dist/index.js")).toBe("node_modules/@scope/pkg");
    expect(packageDirOf("node_modules/@scope/pkg/node_modules/dep/x.js")).toBe("node_modules/@scope/pkg/node_modules/dep");
    expect(packageDirOf("src/cli.ts")).toBeNull();
    expect(purlOf("@scope/pkg", "1.2.3")).toBe("pkg:npm/%40scope/pkg@1.2.3");
  });

  test("lists only what was bundled, with lockfile versions, hashes and edges", () => {
    const bom = buildSbom({ ...base, bundledPaths: ["src/cli.ts", "node_modules/@scope/pkg/a.js", "node_modules/@scope/pkg/node_modules/dep/b.js"] });
    expect(bom.specVersion).toBe("1.5");
    expect(bom.components.map((c) => c.purl)).toEqual(["pkg:npm/%40scope/pkg@1.2.3", "pkg:npm/dep@1.0.0"]);
    expect(bom.components[1]!.hashes).toEqual([{ alg: "SHA-512", content: "040506" }]);
    expect(bom.components[1]!.licenses).toEqual([{ expression: "(MIT OR Apache-2.0)" }]);
    expect(bom.dependencies).toEqual([
      { ref: "codex-subagents@0.1.0", dependsOn: ["pkg:npm/%40scope/pkg@1.2.3"] },
      { ref: "pkg:npm/%40scope/pkg@1.2.3", dependsOn: ["pkg:npm/dep@1.0.0"] },
      { ref: "pkg:npm/dep@1.0.0", dependsOn: [] },
    ]);
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(buildSbom({ ...base, bundledPaths: ["node_modules/@scope/pkg/a.js", "node_modules/@scope/pkg/node_modules/dep/b.js"] })).toEqual(bom);
  });

  test("a package's sourcemap sources name what is compiled into it: pnpm's store gives the version, the innermost node_modules the name", () => {
    expect(vendoredPackagesOf([
      "../src/own.ts",
      "../../../node_modules/.pnpm/ajv@8.18.0/node_modules/ajv/dist/core.js",
      "../../../node_modules/.pnpm/ajv@8.18.0/node_modules/ajv/dist/compile/index.js",
      "../../../node_modules/.pnpm/ajv-formats@3.0.1_ajv@8.18.0/node_modules/ajv-formats/dist/index.js",
      "../../../node_modules/.pnpm/@cfworker+json-schema@4.1.1/node_modules/@cfworker/json-schema/dist/esm/index.js",
      "node_modules/plain/lib/x.js",
      "C:\\x\\node_modules\\win\\y.js",
    ])).toEqual([
      { name: "@cfworker/json-schema", version: "4.1.1" },
      { name: "ajv", version: "8.18.0" },
      { name: "ajv-formats", version: "3.0.1" },
      { name: "plain" },
      { name: "win" },
    ]);
  });

  test("packages compiled into a bundled package are its nested components, with the version their path gives and no hash", () => {
    const bom = buildSbom({ ...base, bundledPaths: ["node_modules/@scope/pkg/a.js"], vendored: { "node_modules/@scope/pkg": [{ name: "ajv", version: "8.18.0" }, { name: "plain" }] } });
    expect(bom.components[0]!.components).toEqual([
      { type: "library", "bom-ref": "pkg:npm/%40scope/pkg@1.2.3#pkg:npm/ajv@8.18.0", name: "ajv", version: "8.18.0", purl: "pkg:npm/ajv@8.18.0", scope: "required", properties: [{ name: "codex-subagents:compiled-into", value: expect.stringContaining("@scope/pkg@1.2.3") }] },
      { type: "library", "bom-ref": "pkg:npm/%40scope/pkg@1.2.3#pkg:npm/plain", name: "plain", purl: "pkg:npm/plain", scope: "required", properties: [expect.anything()] },
    ]);
    // A package not bundled lists nothing, whatever the map says.
    expect(buildSbom({ ...base, bundledPaths: ["node_modules/dep/b.js"], vendored: { "node_modules/@scope/pkg": [{ name: "ajv", version: "8.18.0" }] } }).components.every((c) => c.components === undefined)).toBe(true);
  });

  test("refuses a bundled devDependency or a package missing from the lockfile", () => {
    expect(() => buildSbom({ ...base, bundledPaths: ["node_modules/devtool/index.js"] })).toThrow(/devtool is a devDependency/);
    expect(() => buildSbom({ ...base, bundledPaths: ["node_modules/ghost/index.js"] })).toThrow(/ghost .* is not in package-lock.json/);
  });
});
