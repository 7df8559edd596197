// `codex-subagents run --resume` continues only a thread this server (or a kept run record) started, as `delegate`
// does (src/runs/threads.ts). Before the delegation context was built in one place, `run` had no thread registry:
// `run review --resume <id>` resumed the user's own top-level Codex session, and its record then named that thread,
// so a later MCP `delegate { resume }` accepted it too. The real codex against the mock model, found on PATH.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, runCodex, type CodexHome } from "../helpers/codex-home.ts";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { scratchWithDirs } from "../helpers/e2e-scratch.ts";
import { runCli } from "../doctor/run-cli.ts";
import { countBadInput, reportTally } from "./harness.ts";

let scratch: string, project: string, home: CodexHome, mock: MockModel, server: ConnectedServer | undefined;

beforeAll(async () => {
  [scratch, project] = await scratchWithDirs("cs-run-resume-", "project");
  await writeFile(path.join(project, "README.md"), "a project\n");
  mock = await startMockModel(() => [assistantMessage("an answer")]);
  home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: scratch });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await home?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  reportTally(import.meta.file);
});

/** The user's shell: codex on PATH (never --codex), the mock's CODEX_HOME. */
const env = () => ({ ...home.env, PATH: `${path.dirname(codexBin)}:${home.env.PATH}` });
const runsDir = () => path.join(home.dir, "subagents", "runs");

async function recordedThreads(): Promise<string[]> {
  const names = await readdir(runsDir()).catch(() => [] as string[]);
  return (await Promise.all(names.map((n) => readFile(path.join(runsDir(), n, "thread.txt"), "utf8").catch(() => "")))).map((t) => t.trim()).filter(Boolean);
}

test("run --resume of the user's own Codex session is refused; nothing runs, no record names it, delegate refuses it too", async () => {
  countBadInput(2);
  // The user's own top-level session, started by codex itself in the same CODEX_HOME.
  const session = await runCodex({ args: ["exec", "--json", "--skip-git-repo-check", "-"], env: home.env, cwd: project, stdin: "hello" });
  const foreign = session.events.find((e) => e.type === "thread.started")?.thread_id as string;
  expect(foreign).toMatch(/^[0-9a-f-]{36}$/);
  const requestsBefore = mock.responseRequests().length;

  const refused = await runCli(["run", "review", "Continue where you left off", "--resume", foreign], { cwd: project, env: env() });
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe("");
  expect(refused.stderr).toContain(`resume "${foreign}" is not a thread this server started`);
  // Without the fix codex resumed the session (the mock saw its history) and the record named the thread.
  expect(mock.responseRequests().length).toBe(requestsBefore);
  expect(await recordedThreads()).not.toContain(foreign);

  server = await connectServer({ ...serverCommand([]), env: env(), cwd: project });
  const viaMcp: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "continue", resume: foreign } });
  expect(viaMcp.isError).toBe(true);
  expect(viaMcp.content[0].text).toContain(`resume "${foreign}" is not a thread this server started`);
  expect(mock.responseRequests().length).toBe(requestsBefore);
}, 120_000);

test("a thread an earlier run started is resumed by a later run (its record vouches for it): the check is not blanket", async () => {
  const first = await runCli(["run", "review", "Look at the README", "--json"], { cwd: project, env: env() });
  expect(first.code).toBe(0);
  const thread = JSON.parse(first.stdout).thread_id as string;
  expect(await recordedThreads()).toContain(thread);
  const again = await runCli(["run", "review", "And now the rest", "--resume", thread], { cwd: project, env: env() });
  expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 0 });
  expect(again.stdout).toBe("an answer\n");
}, 120_000);
