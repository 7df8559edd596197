// What the worktree e2e suites (test/e2e/worktree*.test.ts) share: a sub-agent over the codex mock that runs one
// shell command and answers with what it printed, and a server rooted at the suite's scratch directory, working in
// the user's repository, with a TMPDIR of its own that the tests look into for leftovers.
import path from "node:path";
import { makeCodexHome, type CodexHome } from "./codex-home.ts";
import { closeServerWorld } from "./codex-server.ts";
import { connectServer, type ConnectedServer } from "./mcp-client.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, startMockModel, type MockModel } from "./mock-model.ts";
import { codexBin } from "./paths.ts";
import { serverCommand } from "./server-command.ts";

export interface RepoPlaces {
  /** The server's --root: the scratch directory that holds the repository. */
  root: string;
  /** The user's repository, the server's cwd. */
  repo: string;
  /** The server's TMPDIR. */
  serverTmp: string;
}

/** `serve --root ROOT --codex CODEX ARGS --runs-dir RUNS` in the repository, with the mock's CODEX_HOME and the TMPDIR. */
export function serveInRepo(home: CodexHome, places: RepoPlaces, runsDir: string, args: string[] = []): Promise<ConnectedServer> {
  return connectServer({
    ...serverCommand(["--root", places.root, "--codex", codexBin, ...args, "--runs-dir", runsDir]),
    env: { ...home.env, TMPDIR: places.serverTmp },
    cwd: places.repo,
  });
}

/** The server's private work directory (src/workspace/private-dir.ts): its spares and run directories live there. */
export function serverWorkDir(home: CodexHome): string {
  return path.join(home.dir, "subagents", "work");
}

export interface ShellAgent {
  /** Text only this sub-agent's developer messages hold (its persona); any other caller is answered "unexpected caller". */
  personaMarker: string;
  /** The one command it runs with exec_command, under call id `callId`, before it answers. */
  command: string;
  callId: string;
  /** Its final answer, from what the command printed (the tool's output). */
  answer(toolOutput: string): string;
}

export interface ShellAgentWorld {
  mock: MockModel;
  home: CodexHome;
  /** Started with serveInRepo, run records in ROOT/runs. */
  server: ConnectedServer;
}

/** The mock model playing `agent`, its CODEX_HOME, and the server; what was made is ended again if a later part fails. */
export async function startShellAgentWorld(agent: ShellAgent, places: RepoPlaces): Promise<ShellAgentWorld> {
  const mock = await startMockModel((req) => {
    if (!developerMessages(req.body).join("\n").includes(agent.personaMarker)) return [assistantMessage("unexpected caller")];
    const outputs = functionCallOutputs(req.body);
    if (outputs.length === 0) return [functionCall({ name: "exec_command", args: { cmd: agent.command }, callId: agent.callId })];
    return [assistantMessage(agent.answer(outputs[0]!.output))];
  });
  let home: CodexHome | undefined;
  try {
    home = await makeCodexHome({ baseUrl: mock.baseUrl });
    return { mock, home, server: await serveInRepo(home, places, path.join(places.root, "runs")) };
  } catch (error) {
    await closeServerWorld({ mock, home });
    throw error;
  }
}
