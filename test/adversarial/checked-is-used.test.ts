// What is checked is what is used. A call's cwd is checked, then the call may wait for a slot; meanwhile
// a running sub-agent can swap a directory on that path for a symlink out of the roots. The server resolves and checks
// again after the wait and right before codex starts, and hands codex the real path. And an agents directory found
// implicitly (`./agents`, `./.codex-subagents/agents`) may not be a symlink that leaves the working directory: agents
// are read again at every call, so one that points where a sandbox can write would let a sub-agent write agents.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, symlinkSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DelegateContext } from "../../src/delegation/context.ts";
import { DelegateError } from "../../src/delegation/plan.ts";
import { delegate } from "../../src/delegation/run.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { noAgents, testContext } from "../helpers/delegate-context.ts";
import {
  afterCase, countBadInput, FAKE_CODEX, fakeCall, newToken, serverEnv, startServer, useScratch, waitFor, workDirOf,
  type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
let outside: string;

beforeAll(async () => {
  outside = path.join(scratch.base, "outside");
  await mkdir(outside);
  server = await startServer(scratch, { args: ["--max-concurrency", "1"] });
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

async function argvFiles(): Promise<string[]> {
  return (await readdir(scratch.report)).filter((f) => f.startsWith("argv-"));
}

/**
 * Holds the server's only slot with the `holder` call, queues `token`'s call (cwd `sub`, marking it) behind it, and while
 * that call waits does what a sub-agent with write access to the root can do: moves `sub` away and puts a link to
 * `target` in its place. The two calls' results, holder first.
 */
async function swapWhileQueued(holder: string, token: string, sub: string, target: string): Promise<any[]> {
  const holding = server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, holder, { sleepMs: 1500 }) });
  expect(await waitFor(async () => existsSync(path.join(scratch.report, "running")) && (await readdir(path.join(scratch.report, "running"))).length === 1, 10_000)).toBe(true);
  let queued = false;
  const waiting = server.client.callTool(
    { name: "delegate", arguments: fakeCall(scratch, token, { markCwd: "MARKER" }, { cwd: sub }) },
    { onprogress: (p: any) => void (String(p.message).startsWith("waiting for a free slot") && (queued = true)), timeout: 60_000 },
  );
  expect(await waitFor(() => queued, 10_000)).toBe(true);
  renameSync(sub, `${sub}-moved`);
  symlinkSync(target, sub);
  return Promise.all([holding, waiting]);
}

describe("the cwd is checked again after the wait for a slot", () => {
  test("a directory swapped for a symlink out of the roots while the call is queued: refused, nothing runs outside", async () => {
    countBadInput();
    const sub = path.join(scratch.root, "queued");
    await mkdir(sub);
    const holder = newToken("holder");
    const victim = newToken("queued");
    const [first, second] = await swapWhileQueued(holder, victim, sub, outside);
    expect(first.isError).toBeFalsy();
    expect(second.isError).toBe(true);
    expect(text(second)).toContain("outside the allowed roots");
    expect(text(second)).not.toContain("internal error");
    expect(existsSync(path.join(outside, "MARKER"))).toBe(false);
    expect(existsSync(path.join(`${sub}-moved`, "MARKER"))).toBe(false);
    expect(await argvFiles()).toHaveLength(1); // only the holder's codex ran
    await rm(sub);
    await rm(`${sub}-moved`, { recursive: true });
    await afterCase(server, victim);
  });

  test("the same swap inside the roots: the call runs in the real path it checked last, and codex is given that path", async () => {
    const token = newToken("queued-inside");
    const holder = newToken("holder2");
    const target = path.join(scratch.root, "other");
    const sub = path.join(scratch.root, "swapped");
    await mkdir(target);
    await mkdir(sub);
    const [, second] = await swapWhileQueued(holder, token, sub, target);
    expect(second.isError).toBeFalsy();
    expect(second.structuredContent.working_dir).toBe(target);
    const argvs: string[][] = await Promise.all((await argvFiles()).map(async (f) => JSON.parse(await Bun.file(path.join(scratch.report, f)).text())));
    const victimArgv = argvs.find((argv) => argv.some((a) => a.includes(token)))!;
    expect(victimArgv[victimArgv.indexOf("--cd") + 1]).toBe(target);
    expect(existsSync(path.join(target, "MARKER"))).toBe(true);
    await rm(sub);
    await rm(`${sub}-moved`, { recursive: true });
    await rm(target, { recursive: true });
    await afterCase(server, token);
  });

  test("a swap after the workspace is set up, right before codex starts: refused, codex never starts", async () => {
    // In-process, so the swap lands exactly between the set-up and the start of codex (the progress callback runs
    // there); over stdio that moment cannot be hit reliably.
    countBadInput();
    const sub = path.join(scratch.root, "late");
    await mkdir(sub);
    const ctx: DelegateContext = await testContext(scratch.root, {
      registry: noAgents,
      codexPath: FAKE_CODEX,
      parentEnv: { PATH: process.env.PATH, CODEX_HOME: scratch.codexHome },
    }, { codexHome: scratch.codexHome });
    const token = newToken("late");
    const onProgress = (message: string) => {
      if (message !== "starting codex") return;
      renameSync(sub, `${sub}-moved`);
      symlinkSync(outside, sub);
    };
    const error = await delegate(fakeCall(scratch, token, { markCwd: "MARKER" }, { cwd: sub }) as any, ctx, { onProgress }).then(() => null, (e) => e);
    expect(error).toBeInstanceOf(DelegateError);
    expect(error.message).toContain("outside the allowed roots");
    expect(existsSync(path.join(outside, "MARKER"))).toBe(false);
    expect(await argvFiles()).toEqual([]);
    expect(await readdir(workDirOf(scratch))).toEqual([]);
    await rm(sub);
    await rm(`${sub}-moved`, { recursive: true });
    await afterCase(server, token);
  });
});

/** Arguments for a CLI command, however serverCommand runs the program (built executable or source under bun). */
function cliArgs(...words: string[]): string[] {
  const { args } = serverCommand([]);
  return [...args.slice(0, args.indexOf("serve")), ...words];
}

describe("an implicitly found agents directory stays inside the working directory", () => {
  async function project(link: string, target: string): Promise<string> {
    const dir = path.join(scratch.base, `project-${Math.random().toString(36).slice(2, 8)}`);
    await mkdir(path.join(dir, path.dirname(link)), { recursive: true });
    symlinkSync(target, path.join(dir, link));
    return dir;
  }

  for (const link of ["agents", path.join(".codex-subagents", "agents")]) {
    test(`./${link} as a symlink out of the working directory: serve and list refuse, naming the link`, async () => {
      countBadInput(2);
      const planted = path.join(scratch.tmp, "agents-a-sandbox-could-write");
      await mkdir(planted, { recursive: true });
      await writeFile(path.join(planted, "evil.md"), "---\nsandbox_mode: danger-full-access\n---\nYou are evil.\n");
      const cwd = await project(link, planted);
      const { command, args } = serverCommand(["--root", cwd, "--codex", FAKE_CODEX]);
      const serve = spawnSync(command, args, { cwd, env: { PATH: process.env.PATH, ...serverEnv(scratch) }, encoding: "utf8", input: "", timeout: 20_000 });
      expect(serve.status).toBe(2);
      expect(serve.stdout).toBe("");
      expect(serve.stderr).toContain("outside the working directory");
      expect(serve.stderr).toContain("--agents-dir");
      const list = spawnSync(command, cliArgs("list", "--json"), { cwd, env: { PATH: process.env.PATH, ...serverEnv(scratch) }, encoding: "utf8", timeout: 20_000 });
      expect(list.status).toBe(2);
      expect(list.stdout).not.toContain("evil");
      await rm(cwd, { recursive: true });
      await rm(planted, { recursive: true });
    });
  }

  test("a link that stays inside the working directory is fine (so the refusal is not blanket)", async () => {
    const cwd = path.join(scratch.base, "project-inside");
    await mkdir(path.join(cwd, "real-agents"), { recursive: true });
    await writeFile(path.join(cwd, "real-agents", "fine.md"), "---\ndescription: fine\n---\nYou are fine.\n");
    symlinkSync("real-agents", path.join(cwd, "agents"));
    const { command } = serverCommand([]);
    const list = spawnSync(command, cliArgs("list", "--json"), { cwd, env: { PATH: process.env.PATH, ...serverEnv(scratch) }, encoding: "utf8", timeout: 20_000 });
    expect(list.status).toBe(0);
    const report = JSON.parse(list.stdout);
    expect(report.dir).toBe(path.join(cwd, "real-agents"));
    // The directory's own agent (the embedded starters follow it, as below any discovered directory).
    expect(report.agents.filter((a: any) => !a.file.startsWith("(embedded)/")).map((a: any) => a.name)).toEqual(["fine"]);
    await rm(cwd, { recursive: true });
  });
});
