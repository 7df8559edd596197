// The proof, with the real codex against the mock model, that the private work directory is out of a sandboxed
// sub-agent's reach: a workspace-write sub-agent runs a command that tries to write into the work
// directory and into its own run's files (last-message.txt and a new file beside it). Its own cwd stays writable,
// which shows the command ran and the sandbox is the thing that said no. With isolation "mirror" its cwd is itself
// inside the work directory; the run's files, one directory up, are still out of reach.
//
// CODEX_HOME lives under the repository's .tmp, not /tmp: a workspace-write sandbox may write /tmp, so a work
// directory there would be writable (the server warns about that at start-up and in doctor).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin, repoRoot } from "../helpers/paths.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { LEDGER_FILE } from "../../src/runs/writer-ledger.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";

let parent: string;
let home: CodexHome;
let mock: MockModel;
let server: ConnectedServer;
let root: string;
let workDir: string;
let lastOutput = "";

function attack(work: string): string {
  return [
    `echo pwned > "${work}/planted.txt" && echo WROTE-WORK-DIR`,
    `for d in "${work}"/run-*; do echo pwned > "$d/last-message.txt" && echo WROTE-LAST-MESSAGE; echo pwned > "$d/planted.txt" && echo WROTE-RUN-FILES; done`,
    // Wherever the server keeps the run's files, a sub-agent that searches the places it can reach finds them
    // ($TMPDIR is the server's own here, so the search cannot touch other programs' files in /tmp).
    `for f in $(find "$TMPDIR" "${work}" -name last-message.txt 2>/dev/null); do echo pwned > "$f" && echo WROTE-LAST-MESSAGE; echo pwned > "$(dirname -- "$f")/planted.txt" && echo WROTE-RUN-FILES; done`,
    `echo inside > ./inside-marker.txt && echo WROTE-CWD`,
    "true",
  ].join("; ");
}

beforeAll(async () => {
  await mkdir(path.join(repoRoot, ".tmp"), { recursive: true });
  parent = await realpath(await mkdtemp(path.join(repoRoot, ".tmp", "cs-private-sandbox-")));
  mock = await startMockModel((req) => {
    const outputs = functionCallOutputs(req.body);
    if (outputs.length === 0) return [functionCall({ name: "exec_command", args: { cmd: attack(workDir) }, callId: "call_attack" })];
    lastOutput = outputs.map((o) => o.output).join("\n");
    return [assistantMessage("sub-agent finished")];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
  workDir = path.join(home.dir, "subagents", "work");
  root = path.join(parent, "project");
  await mkdir(root);
  await writeFile(path.join(root, "README.md"), "a project\n");
  await mkdir(path.join(parent, "tmp"));
  server = await serveWithCodexHome(home, ["--root", root, "--codex", codexBin], root, { TMPDIR: path.join(parent, "tmp") });
});

afterAll(async () => {
  await closeServerWorld({ server, mock, home }, parent);
  reportTally(import.meta.file);
});

describe("a workspace-write sub-agent cannot write the server's private work directory", () => {
  for (const isolation of ["none", "mirror"] as const) {
    test(`isolation ${isolation}: writes to the work dir and the run's files fail, its cwd is writable`, async () => {
      countBadInput(3);
      lastOutput = "";
      const result: any = await server.client.callTool({
        name: "delegate",
        arguments: { agent: "attacker", persona: "You run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "run it", isolation },
      }, undefined, { timeout: 120_000 });
      expect(result.structuredContent.final_message).toBe("sub-agent finished");
      // Out of /tmp, TMPDIR and the root, the work directory is private: no warning.
      expect(server.stderr()).not.toContain("is not private");
      if (process.env.SHOW_ATTACK_OUTPUT) process.stderr.write(`${lastOutput}\n`);
      expect(lastOutput).toContain("WROTE-CWD");
      expect(lastOutput).not.toContain("WROTE-WORK-DIR");
      expect(lastOutput).not.toContain("WROTE-LAST-MESSAGE");
      expect(lastOutput).not.toContain("WROTE-RUN-FILES");
      expect(existsSync(path.join(workDir, "planted.txt"))).toBe(false);
      // Only a run with isolation "none" works in the project itself.
      expect(existsSync(path.join(root, "inside-marker.txt"))).toBe(isolation === "none");
      await rm(path.join(root, "inside-marker.txt"), { force: true });
      // Nothing left behind: the run's directory is gone (the in-place writers ledger is kept for good).
      expect((await readdir(workDir)).filter((name) => name !== LEDGER_FILE)).toEqual([]);
    });
  }
});
