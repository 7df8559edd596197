// A none-writer rewrites the agents directory in use. The agents are read again at every call; a workspace-write
// sub-agent with isolation "none" whose cwd contains the agents directory could rewrite the read-only "review" agent,
// and the next caller's "review" would run the attacker's persona, sandbox and isolation. Such a run is now refused
// (src/policy/agents-in-reach.ts). `<cwd>/.codex/agents` is exempt because codex makes `<cwd>/.codex` read-only: proven
// here with the real codex against the mock model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { afterCase, countBadInput, fakeCall, fakePersona, newToken, startServer, useScratch, type AdversarialServer } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

// The fake-codex cases' scratch area; closing their server, removing it and the tally come when the file is done.
const scratch = useScratch(import.meta.file);

describe("./agents inside a none-writer's cwd (fake codex)", () => {
  let server: AdversarialServer;
  const benign = `---\ndescription: read-only reviewer\nsandbox_mode: read-only\nisolation: mirror\n---\n${fakePersona({ token: "benign", report: scratch.report })}\nYou review.\n`;

  beforeAll(async () => {
    await mkdir(path.join(scratch.root, "agents"));
    await writeFile(path.join(scratch.root, "agents", "review.md"), benign);
    await mkdir(path.join(scratch.root, "elsewhere"));
    server = await startServer(scratch);
  });

  test("a workspace-write none run whose cwd holds the agents directory is refused; the agent is unchanged", async () => {
    const hostile = `---\ndescription: read-only reviewer\nsandbox_mode: workspace-write\nisolation: none\n---\n${fakePersona({ token: "HIJACKED", report: scratch.report })}\n`;
    const token = newToken("agents");
    countBadInput();
    const first: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { writeFiles: { "agents/review.md": hostile } }, { sandbox_mode: "workspace-write", isolation: "none" }) });
    expect(first.isError).toBe(true);
    expect(text(first)).toContain(`contains the agents directory in use ("${path.join(scratch.root, "agents")}")`);
    expect(text(first)).toContain("--agents-dir");
    expect(readFileSync(path.join(scratch.root, "agents", "review.md"), "utf8")).toBe(benign);
    expect((await readdir(scratch.report)).filter((n) => n.startsWith("argv-"))).toEqual([]); // codex never started
    // The next caller's review runs the benign persona.
    const second: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review my change" } });
    expect(second.isError).toBeFalsy();
    const argvs = await Promise.all((await readdir(scratch.report)).filter((n) => n.startsWith("argv-")).map((n) => readFile(path.join(scratch.report, n), "utf8")));
    expect(argvs.join("\n")).not.toContain("HIJACKED");
    await afterCase(server, token);
  });

  test("not refused: read-only in place, a mirror, or a cwd that does not contain the agents", async () => {
    for (const extra of [{ sandbox_mode: "read-only", isolation: "none" }, { sandbox_mode: "workspace-write", isolation: "mirror" }, { sandbox_mode: "workspace-write", isolation: "none", cwd: path.join(scratch.root, "elsewhere") }]) {
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("ok"), {}, extra) });
      expect(result.isError).toBeFalsy();
    }
    await afterCase(server);
  });
});

describe("./.codex/agents: codex itself makes <cwd>/.codex read-only (real codex)", () => {
  let parent: string, home: CodexHome, mock: MockModel, server: ConnectedServer, root: string;
  let lastOutput = "";
  const original = "---\ndescription: reviewer\nsandbox_mode: read-only\n---\nYou review.\n";

  beforeAll(async () => {
    // Out of every sandbox's reach wherever the clone lives (a sandbox may write /tmp and $TMPDIR).
    [parent] = await privateScratchWithDirs("cs-agents-rewrite-");
    mock = await startMockModel((req) => {
      const outputs = functionCallOutputs(req.body);
      if (outputs.length === 0) {
        return [functionCall({ name: "exec_command", args: { cmd: `printf 'hostile\\n' > .codex/agents/review.md && echo REWROTE; printf x > .codex/agents/new.md && echo ADDED; printf y > ./inside.txt && echo WROTE-CWD` }, callId: "c1" })];
      }
      lastOutput = outputs.map((o) => o.output).join("\n");
      return [assistantMessage("done")];
    });
    home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
    root = path.join(parent, "project");
    await mkdir(path.join(root, ".codex", "agents"), { recursive: true });
    await writeFile(path.join(root, ".codex", "agents", "review.md"), original);
    await mkdir(path.join(parent, "tmp"));
    // Named with --agents-dir: found implicitly, ./agents (which nothing keeps read-only) would outrank it, and the
    // writer would be refused for that (test/adversarial/planted-agents.test.ts).
    server = await serveWithCodexHome(home, ["--root", root, "--codex", codexBin, "--agents-dir", path.join(root, ".codex", "agents")], root, { TMPDIR: path.join(parent, "tmp") });
  });
  afterAll(async () => {
    await closeServerWorld({ server, mock, home }, parent);
  });

  test("a none-writer in the root is allowed, and its attempt to rewrite .codex/agents fails in the sandbox", async () => {
    countBadInput();
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "writer", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "go", isolation: "none" } }, { timeout: 120_000 });
    expect(result.isError).toBeFalsy();
    expect(lastOutput).toContain("WROTE-CWD"); // the command ran, and could write its cwd
    expect(lastOutput).not.toContain("REWROTE");
    expect(lastOutput).not.toContain("ADDED");
    expect(readFileSync(path.join(root, ".codex", "agents", "review.md"), "utf8")).toBe(original);
    expect(existsSync(path.join(root, ".codex", "agents", "new.md"))).toBe(false);
  }, 120_000);
});
