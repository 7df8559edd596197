// The commands' contract with src/cli.ts, run in-process: exit codes and where text goes.
import { describe, expect, test } from "bun:test";
import { sbomCommand, verifyCommand, versionCommand } from "../../src/commands/verify.ts";
import { VERSION } from "../../src/version.ts";

function capture() {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, out: () => out, err: () => err };
}

const fromSource = { manifest: null, selfPath: null, env: {} };

describe("running from source (no build manifest)", () => {
  test("--verify cannot verify: exit 2, says how to get something verifiable", async () => {
    const c = capture();
    expect(await verifyCommand([], c.io, fromSource)).toBe(2);
    expect(c.out()).toContain("FAIL build-manifest: no build manifest: this is running from source");
    expect(c.out()).toContain("result: unverifiable");
    expect(c.err()).toBe("");
  });

  test("--verify --json says unverifiable with a null binary and build", async () => {
    const c = capture();
    expect(await verifyCommand(["--json"], c.io, fromSource)).toBe(2);
    const report = JSON.parse(c.out());
    expect(report).toMatchObject({ result: "unverifiable", binary: null, build: null, sbom: [] });
  });

  test("--sbom exits 2 with nothing on stdout", async () => {
    const c = capture();
    expect(await sbomCommand([], c.io, fromSource)).toBe(2);
    expect(c.out()).toBe("");
    expect(c.err()).toContain("running from source");
  });

  test("--version still prints the version line first", async () => {
    const c = capture();
    expect(await versionCommand([], c.io, fromSource)).toBe(0);
    expect(c.out().split("\n")[0]).toBe(`codex-subagents ${VERSION}`);
    expect(c.out()).toContain("build: none (running from source");
  });
});

describe("usage errors", () => {
  for (const argv of [["--nope"], ["--json", "--json"], ["--checksums"], ["--checksums", "a", "--checksums", "b"], ["--pubkey", "RWnot-a-key"]]) {
    test(`--verify ${argv.join(" ")} → 64, the error line, then a hint line naming the usage`, async () => {
      const c = capture();
      expect(await verifyCommand(argv, c.io, fromSource)).toBe(64);
      expect(c.out()).toBe("");
      const lines = c.err().trimEnd().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toStartWith("codex-subagents: error: --verify: ");
      expect(lines[1]).toStartWith("hint: ");
      expect(lines[1]).toEndWith("usage: codex-subagents --verify [--checksums FILE] [--pubkey KEY|FILE] [--json]");
    });
  }

  test("--version takes no arguments", async () => {
    const c = capture();
    expect(await versionCommand(["x"], c.io, fromSource)).toBe(64);
    expect(c.err()).toContain('--version takes no arguments, got "x"');
  });
});
