// The same tracked sources build byte-identical assets in two unrelated directories,
// and the .mjs from that build completes an MCP handshake under bun, deno and node.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { copyProductionModules, SCRIPT_ASSET, TARGETS } from "../../build.ts";
import { SOURCE_DIRS, SOURCE_FILES } from "../../src/verify/manifest.ts";
import { bunBin, denoBin, repoRoot } from "../helpers/paths.ts";
import { initializeRequestLine } from "../helpers/e2e-initialize.ts";

const host = TARGETS.find((t) => t.platform === process.platform && t.arch === process.arch);
const runtimeCache = join(repoRoot, "node_modules", ".cache", "codex-subagents", "bun-runtimes");
const roots: string[] = [];

/** Tracked files only (as in the working tree), plus the production packages: what a clean checkout would hold. */
function stageTrackedInputs(into: string): string[] {
  const listed = spawnSync("git", ["ls-files", "-z", "--", ...SOURCE_DIRS, ...SOURCE_FILES], { cwd: repoRoot, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = listed.stdout.split("\0").filter((f) => f !== "" && existsSync(join(repoRoot, f)));
  for (const file of files) {
    mkdirSync(dirname(join(into, file)), { recursive: true });
    copyFileSync(join(repoRoot, file), join(into, file));
  }
  copyProductionModules(repoRoot, into);
  return files;
}

function releaseBuild(dir: string): void {
  const only = `${host!.asset},${SCRIPT_ASSET}`;
  const result = spawnSync(bunBin, ["run", "build.ts", "--release", "--only", only], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, CODEX_SUBAGENTS_RUNTIME_CACHE: runtimeCache },
  });
  if (result.status !== 0) throw new Error(`release build in ${dir} failed:\n${result.stderr}`);
}

let first = "";
let second = "";
let stagedFiles: string[] = [];

beforeAll(() => {
  if (!host) return;
  const a = mkdtempSync(join(tmpdir(), "codex-subagents-repro-a-"));
  const b = mkdtempSync(join(tmpdir(), "codex-subagents-repro-b-"));
  roots.push(a, b);
  first = a;
  // A different depth and name, so an embedded path would show as a difference.
  second = join(b, "some", "much-longer-checkout-path");
  mkdirSync(second, { recursive: true });
  stagedFiles = stageTrackedInputs(first);
  stageTrackedInputs(second);
  releaseBuild(first);
  releaseBuild(second);
}, 300_000);

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!host)("reproducible build", () => {
  test("two directories give byte-identical assets and checksums.txt", () => {
    const sums = readFileSync(join(first, "dist", "checksums.txt"), "utf8");
    expect(readFileSync(join(second, "dist", "checksums.txt"), "utf8")).toBe(sums);
    expect(sums.trim().split("\n").map((l) => l.slice(66))).toEqual([host!.asset, SCRIPT_ASSET].sort());
    for (const name of [host!.asset, SCRIPT_ASSET]) {
      expect(readFileSync(join(second, "dist", name)).equals(readFileSync(join(first, "dist", name)))).toBe(true);
    }
  });

  test("no build-machine path is inside the assets", () => {
    for (const name of [host!.asset, SCRIPT_ASSET]) {
      const bytes = readFileSync(join(first, "dist", name));
      expect(bytes.includes(first)).toBe(false);
      expect(bytes.includes(repoRoot)).toBe(false);
    }
  });

  test("the embedded source digest is what sha256sum over the tracked inputs gives (docs/VERIFY.md)", () => {
    const version = spawnSync(join(first, "dist", host!.asset), ["--version"], { encoding: "utf8" });
    const digest = /source digest: ([0-9a-f]{64})/.exec(version.stdout)?.[1];
    const sorted = [...stagedFiles].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const listing = spawnSync("sha256sum", sorted, { cwd: first, encoding: "utf8" });
    expect(listing.status).toBe(0);
    expect(digest).toBe(createHash("sha256").update(listing.stdout).digest("hex"));
  });

  test("the built executable verifies itself against the built checksums.txt", () => {
    const verify = spawnSync(join(first, "dist", host!.asset), ["--verify"], { encoding: "utf8" });
    expect(verify.stdout).toContain("PASS checksum:");
    expect(verify.status).toBe(0);
  });
});

const INITIALIZE = initializeRequestLine("reproducible-test");

/** Spawn, send `initialize`, return the first stdout line; the child is always killed and awaited. */
async function handshake(command: string, args: string[], cwd: string): Promise<{ line: string; stderr: string }> {
  const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", HOME: cwd } });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no initialize response from ${command}; stderr:\n${stderr}`)), 20_000);
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const nl = stdout.indexOf("\n");
        if (nl !== -1) {
          clearTimeout(timer);
          resolve(stdout.slice(0, nl));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${command} exited (${code}) before answering; stderr:\n${stderr}`));
      });
      child.stdin.write(INITIALIZE);
    });
    return { line, stderr };
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

const nodeMajor = Number(/^v(\d+)/.exec(spawnSync("node", ["--version"], { encoding: "utf8" }).stdout ?? "")?.[1] ?? 0);

describe.skipIf(!host)("codex-subagents.mjs handshake", () => {
  const runtimes: [string, () => [string, string[]]][] = [
    ["bun", () => [bunBin, [join(first, "dist", SCRIPT_ASSET)]]],
    ["deno", () => [denoBin, ["run", "--allow-env", "--allow-read", join(first, "dist", SCRIPT_ASSET)]]],
    ["node", () => ["node", [join(first, "dist", SCRIPT_ASSET)]]],
  ];
  for (const [name, command] of runtimes) {
    test.skipIf(name === "node" && nodeMajor < 20)(`answers initialize under ${name}`, async () => {
      const cwd = mkdtempSync(join(tmpdir(), `codex-subagents-mjs-${name}-`));
      roots.push(cwd);
      const [cmd, args] = command();
      const { line } = await handshake(cmd, args, cwd);
      const message = JSON.parse(line);
      expect(message.id).toBe(0);
      expect(message.result.serverInfo).toEqual({ name: "codex-subagents", version: JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version });
    }, 30_000);
  }

  test("verifies itself under node", () => {
    const result = spawnSync("node", [join(first, "dist", SCRIPT_ASSET), "--verify"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    expect(result.stdout).toContain(`PASS checksum: ${SCRIPT_ASSET}`);
    expect(result.status).toBe(0);
  });
});
