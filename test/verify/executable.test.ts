// --verify, --sbom and --version as a user meets them: the built executable, run from a scratch directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunBin, distBinary, repoRoot } from "../helpers/paths.ts";
import { createTestSigner } from "./minisign-writer.ts";

const cleanEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir() };

function run(binary: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(binary, args, { encoding: "utf8", env: { ...cleanEnv, ...env }, cwd: tmpdir() });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const haveMinisign = spawnSync("minisign", ["-v"]).status === 0;
const haveSha256sum = spawnSync("sha256sum", ["--version"]).status === 0;

let scratch = "";
let asset = "";
let good = "";
let goodHash = "";

beforeAll(() => {
  if (!existsSync(distBinary)) {
    const build = spawnSync(bunBin, ["run", join(repoRoot, "build.ts")], { cwd: repoRoot, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`bun run build.ts failed:\n${build.stderr}`);
  }
  const facts = JSON.parse(run(distBinary, ["--verify", "--json", "--checksums", "/nonexistent/checksums.txt"]).stdout);
  asset = facts.build.asset;
  scratch = mkdtempSync(join(tmpdir(), "codex-subagents-verify-"));
  good = join(scratch, "release", asset);
  mkdirSync(join(scratch, "release"));
  copyFileSync(distBinary, good);
  goodHash = sha256(good);
  writeFileSync(join(scratch, "release", "checksums.txt"), `${"0".repeat(64)}  codex-subagents.mjs\n${goodHash}  ${asset}\n`);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("--verify against checksums.txt", () => {
  test("a matching checksums.txt beside the executable passes (exit 0)", () => {
    const { code, stdout, stderr } = run(good, ["--verify"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`PASS checksum: ${asset} sha256 ${goodHash} matches`);
    expect(stdout).toContain("result: pass");
    expect(stdout).toContain("What this cannot prove:");
    expect(stdout).toContain("sha256sum -c --ignore-missing checksums.txt");
    expect(stderr).toBe("");
  });

  test.skipIf(!haveSha256sum)("sha256sum -c agrees", () => {
    expect(spawnSync("sha256sum", ["-c", "--ignore-missing", "checksums.txt"], { cwd: join(scratch, "release") }).status).toBe(0);
  });

  test("a copy with one byte flipped fails (exit 1), naming the asset and both hashes; sha256sum -c agrees", () => {
    const dir = join(scratch, "tampered");
    mkdirSync(dir);
    const bytes = readFileSync(good);
    // A byte inside the embedded SBOM text: the program still runs, so it can report on itself.
    const at = bytes.indexOf("the libraries inside Bun are not listed");
    expect(at).toBeGreaterThan(0);
    bytes[at + 4] = bytes[at + 4]! ^ 0x20;
    const tampered = join(dir, asset);
    writeFileSync(tampered, bytes, { mode: 0o755 });
    copyFileSync(join(scratch, "release", "checksums.txt"), join(dir, "checksums.txt"));
    const badHash = sha256(tampered);
    const { code, stdout } = run(tampered, ["--verify"]);
    expect(code).toBe(1);
    const line = stdout.split("\n").find((l) => l.startsWith("FAIL checksum:"));
    expect(line).toContain(asset);
    expect(line).toContain(badHash);
    expect(line).toContain(goodHash);
    expect(stdout).toContain("result: fail");
    if (haveSha256sum) expect(spawnSync("sha256sum", ["-c", "--ignore-missing", "checksums.txt"], { cwd: dir }).status).toBe(1);
  });

  test("no checksums file cannot verify (exit 2) and says what to pass", () => {
    const dir = join(scratch, "alone");
    mkdirSync(dir);
    copyFileSync(good, join(dir, asset));
    const { code, stdout } = run(join(dir, asset), ["--verify"]);
    expect(code).toBe(2);
    expect(stdout).toContain(`FAIL checksum: cannot verify: no checksums file at ${join(dir, "checksums.txt")}`);
    expect(stdout).toContain("--checksums FILE");
    expect(stdout).toContain("result: unverifiable");
  });

  test("a checksums file without a line for this asset cannot verify (exit 2)", () => {
    const other = join(scratch, "other-checksums.txt");
    writeFileSync(other, `${goodHash}  something-else\n`);
    const { code, stdout } = run(good, ["--verify", "--checksums", other]);
    expect(code).toBe(2);
    expect(stdout).toContain(`has no line for "${asset}"`);
  });

  test("--json has the documented shape", () => {
    const { code, stdout } = run(good, ["--verify", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report).sort()).toEqual(["binary", "build", "checks", "independent_commands", "limitations", "result", "sbom"]);
    expect(report.result).toBe("pass");
    expect(report.binary).toEqual({ path: good, size: readFileSync(good).length, sha256: goodHash });
    expect(report.build.asset).toBe(asset);
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual(["environment", "build-manifest", "checksum", "signature"]);
    expect(report.sbom.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["@modelcontextprotocol/server", "smol-toml", "yaml", "zod"]));
    expect(report.sbom.find((c: { name: string }) => c.name === "content-type")).toMatchObject({ compiled_into: "@modelcontextprotocol/server" });
    expect(report.limitations.join(" ")).toContain("can lie about itself");
  });

  test("BUN_OPTIONS in the environment is a warning", () => {
    const { code, stdout } = run(good, ["--verify"], { BUN_OPTIONS: "--smol" });
    expect(code).toBe(0);
    expect(stdout).toContain("WARN environment: BUN_OPTIONS is set");
  });

  test("usage errors exit 64 with the error line and a hint line naming the usage on stderr, nothing on stdout", () => {
    for (const args of [["--verify", "--bogus"], ["--verify", "--checksums"], ["--verify", "--pubkey", "not-a-key-or-file"], ["--sbom", "extra"]]) {
      const { code, stdout, stderr } = run(good, args);
      expect(code).toBe(64);
      expect(stdout).toBe("");
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toStartWith("codex-subagents: error: ");
      expect(lines[1]).toStartWith("hint: ");
      expect(lines[1]).toContain("usage:");
    }
  });
});

describe("--verify with a minisign signature of checksums.txt", () => {
  test("a signature by the test's key passes; a changed checksums.txt then fails (exit 1)", () => {
    const dir = join(scratch, "signed");
    mkdirSync(dir);
    copyFileSync(good, join(dir, asset));
    const checksums = join(dir, "checksums.txt");
    copyFileSync(join(scratch, "release", "checksums.txt"), checksums);
    const signer = createTestSigner();
    const pubFile = join(dir, "minisign.pub");
    writeFileSync(pubFile, signer.publicKeyFile);
    writeFileSync(`${checksums}.minisig`, signer.signature(readFileSync(checksums)));

    for (const pubkey of [pubFile, signer.publicKey]) {
      const { code, stdout } = run(join(dir, asset), ["--verify", "--pubkey", pubkey]);
      expect(code).toBe(0);
      expect(stdout).toContain(`PASS signature: ${checksums}.minisig is a valid signature by key ${signer.keyIdHex}`);
      expect(stdout).toContain(`minisign -Vm ${checksums} -P ${signer.publicKey}`);
    }
    if (haveMinisign) expect(spawnSync("minisign", ["-Vm", checksums, "-p", pubFile]).status).toBe(0);

    // The line for this asset is untouched, so only the signature can catch the change.
    appendFileSync(checksums, `${"f".repeat(64)}  codex-subagents-extra\n`);
    const { code, stdout } = run(join(dir, asset), ["--verify", "--pubkey", pubFile]);
    expect(code).toBe(1);
    expect(stdout).toContain("PASS checksum:");
    expect(stdout).toContain(`FAIL signature: ${checksums}.minisig does not verify with key ${signer.keyIdHex}`);
    if (haveMinisign) expect(spawnSync("minisign", ["-Vm", checksums, "-p", pubFile]).status).not.toBe(0);
  });

  test.skipIf(!haveMinisign)("a signature made by the minisign tool passes", () => {
    const dir = join(scratch, "minisign-tool");
    mkdirSync(dir);
    copyFileSync(good, join(dir, asset));
    const checksums = join(dir, "checksums.txt");
    copyFileSync(join(scratch, "release", "checksums.txt"), checksums);
    const pub = join(dir, "tool.pub");
    expect(spawnSync("minisign", ["-G", "-W", "-p", pub, "-s", join(dir, "tool.key")]).status).toBe(0);
    expect(spawnSync("minisign", ["-S", "-s", join(dir, "tool.key"), "-m", checksums]).status).toBe(0);
    const { code, stdout } = run(join(dir, asset), ["--verify", "--pubkey", pub]);
    expect(code).toBe(0);
    expect(stdout).toContain("PASS signature:");
  });

  test("--pubkey without a signature file cannot verify (exit 2)", () => {
    const signer = createTestSigner();
    const { code, stdout } = run(good, ["--verify", "--pubkey", signer.publicKey]);
    expect(code).toBe(2);
    expect(stdout).toContain("FAIL signature: cannot verify: --pubkey was given but there is no signature");
  });
});

describe("--sbom and --version", () => {
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; dev?: boolean }> };
  /** The lockfile entry the bundle resolves `name` to: the SDK's own copy of core sits below the server package. */
  const lockedOf = (name: string) => lock.packages[`node_modules/@modelcontextprotocol/server/node_modules/${name}`] ?? lock.packages[`node_modules/${name}`];

  test("the SBOM names exactly the bundled packages (the MCP server SDK, its core, zod, yaml, smol-toml) at their locked versions, and no devDependency", () => {
    const { code, stdout } = run(good, ["--sbom"]);
    expect(code).toBe(0);
    const bom = JSON.parse(stdout);
    expect(bom.bomFormat).toBe("CycloneDX");
    expect(bom.specVersion).toBe("1.5");
    const libraries = bom.components.filter((c: { type: string }) => c.type === "library");
    const byName = new Map<string, { version: string; purl: string; hashes: unknown[] }>(
      libraries.map((c: { group?: string; name: string }) => [c.group ? `${c.group}/${c.name}` : c.name, c]),
    );
    expect([...byName.keys()].sort()).toEqual(["@modelcontextprotocol/core", "@modelcontextprotocol/server", "smol-toml", "yaml", "zod"]);
    for (const name of byName.keys()) {
      const locked = lockedOf(name)!.version!;
      expect(byName.get(name)?.version).toBe(locked);
      expect(byName.get(name)?.purl).toBe(`pkg:npm/${name.replace("@", "%40")}@${locked}`);
      expect(byName.get(name)?.hashes).toHaveLength(1);
    }
    for (const name of byName.keys()) expect(lockedOf(name)?.dev ?? false).toBe(false);
    for (const dev of ["typescript", "bun-types", "@openai/codex", "deno", "bun"]) expect(byName.has(dev)).toBe(false);
  });

  test("what the SDK ships compiled into its own files is listed inside it; ajv, left out of the bundle (src/sdk-platform.ts), is in neither", () => {
    const bom = JSON.parse(run(good, ["--sbom"]).stdout);
    const server = bom.components.find((c: { name: string }) => c.name === "server");
    const inside = (server.components ?? []).map((c: { name: string; version?: string }) => `${c.name}@${c.version}`);
    expect(inside).toEqual(["content-type@1.0.5"]);
    // What the SBOM says is inside is inside (content-type's own error text), and what it leaves out is not there:
    // ajv's messages, which the SDK's own platform module would have brought.
    const bytes = readFileSync(good);
    expect(bytes.includes("invalid media type")).toBe(true);
    expect(bytes.includes("must NOT have additional properties")).toBe(false);
    expect(run(good, ["--version"]).stdout).toContain("bundled: @modelcontextprotocol/server 2.4.0 (with content-type 1.0.5 compiled in), @modelcontextprotocol/core 2.4.0, smol-toml 1.9.1, yaml 2.9.1, zod 4.6.7");
  });

  test("--version starts with the version line, then build facts", () => {
    const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version;
    const { code, stdout } = run(good, ["--version"]);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe(`codex-subagents ${version}`);
    expect(stdout).toContain(`asset: ${asset}`);
    expect(stdout).toMatch(/source digest: [0-9a-f]{64}/);
  });
});
