// Nothing of ours where a sub-agent can write. A workspace-write sandbox may write /tmp and $TMPDIR, so
// the server keeps every file and directory it makes under a private (700) work directory below $CODEX_HOME, one
// unguessable directory per run, and opens what it reads or appends no-follow and non-blocking: a FIFO or a symlink
// planted where it reads the last message or appends events makes a failed run with a note, never a hang, never a
// write to the link's target. (The fake codex plants them here, as a sub-agent that could reach the files would.)
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { serverCommand } from "../helpers/server-command.ts";
import {
  afterCase, commitAll, countBadInput, fakeCall, newToken, startServer, useScratch, waitFor, workDirOf, type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
// The scratch area exists from the start (useScratch), so the paths in it are fixed before any set-up.
const runsDir = path.join(scratch.base, "runs");
const victim = path.join(scratch.base, "victim.txt");
const VICTIM_TEXT = "the user's own file, which no run may read or write\n";

beforeAll(async () => {
  await writeFile(victim, VICTIM_TEXT);
  await writeFile(path.join(scratch.root, "README.md"), "a file to mirror\n");
  commitAll(scratch.root);
  server = await startServer(scratch, { args: ["--runs-dir", runsDir] });
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

async function argvOf(token: string): Promise<string[]> {
  for (const name of (await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))) {
    const argv: string[] = JSON.parse(await readFile(path.join(scratch.report, name), "utf8"));
    if (argv.some((a) => a.includes(token))) return argv;
  }
  throw new Error(`no codex ran for ${token}`);
}

describe("where the server's files live", () => {
  for (const isolation of ["none", "worktree", "mirror"] as const) {
    test(`isolation ${isolation}: every file of the run is below the private work directory, none in TMPDIR, none in cwd`, async () => {
      const token = newToken(`where-${isolation}`);
      const call = server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { sleepMs: 400 }, { isolation }) });
      const work = workDirOf(scratch);
      // The run's own directory (beside it, while the run holds its claim: the tree lock's, src/runs/tree-lock.ts).
      const runDirs = () => (existsSync(work) ? readdirSync(work).filter((name) => name.startsWith("run-")) : []);
      expect(await waitFor(() => runDirs().length === 1, 10_000)).toBe(true);
      const runDir = path.join(work, runDirs()[0]!);
      expect(statSync(work).mode & 0o777).toBe(0o700);
      expect(statSync(runDir).mode & 0o777).toBe(0o700);
      expect(lstatSync(work).isSymbolicLink()).toBe(false);
      const result: any = await call;
      expect(result.isError).toBeFalsy();
      const argv = await argvOf(token);
      const lastMessage = argv[argv.indexOf("--output-last-message") + 1]!;
      const cd = argv[argv.indexOf("--cd") + 1]!;
      const realWork = await realpath(work);
      expect(lastMessage.startsWith(realWork + path.sep)).toBe(true);
      // The run's own files are never below the sub-agent's cwd, where it could replace them.
      expect(lastMessage.startsWith(cd + path.sep)).toBe(false);
      if (isolation !== "none") expect(cd.startsWith(realWork + path.sep)).toBe(true);
      expect(await readdir(scratch.tmp)).toEqual([]);
      await afterCase(server, token);
    });
  }
});

describe("planted files are refused, never followed, never waited on", () => {
  test("a FIFO where the last message is read: the call answers, fails, and says why", async () => {
    countBadInput();
    const token = newToken("fifo-last");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { plantLastMessage: "fifo" }) }, { timeout: 30_000 });
    expect(result.isError).toBe(true);
    expect(result.structuredContent.ok).toBe(false);
    expect(result.structuredContent.notes.join(" ")).toContain("a FIFO");
    await afterCase(server, token);
  });

  test("a symlink where the last message is read: the target is not read into the answer", async () => {
    countBadInput();
    const token = newToken("link-last");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { plantLastMessage: { symlink: victim } }) });
    expect(result.isError).toBe(true);
    expect(text(result)).not.toContain("the user's own file");
    expect(result.structuredContent.notes.join(" ")).toContain("symbolic link");
    await afterCase(server, token);
  });

  test("a symlink planted at events.jsonl: nothing is appended to its target, and the result says the record failed", async () => {
    countBadInput();
    const token = newToken("link-events");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { plantEvents: { runsDir, kind: "symlink", target: victim } }) });
    expect(result.structuredContent).toBeDefined();
    expect(await readFile(victim, "utf8")).toBe(VICTIM_TEXT);
    expect(result.structuredContent.notes.join(" ")).toContain("run record could not be written");
    await afterCase(server, token);
  });

  test("a FIFO planted at events.jsonl: the call answers (no hang holding the slot), and the next call runs", async () => {
    countBadInput();
    const token = newToken("fifo-events");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { plantEvents: { runsDir, kind: "fifo" } }) }, { timeout: 30_000 });
    expect(result.structuredContent.notes.join(" ")).toContain("run record could not be written");
    const next: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("after-fifo")) });
    expect(next.isError).toBeFalsy();
    // `runs` reads every record, the planted one too: it must not block on a FIFO either.
    await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("fifo-result"), { plantEvents: { runsDir, kind: "fifo" } }) });
    for (const dir of readdirSync(runsDir)) {
      const result = path.join(runsDir, dir, "result.json");
      await rename(result, `${result}.moved`);
      spawnSync("mkfifo", [result]);
    }
    const { command, args } = serverCommand([]);
    const runs = spawnSync(command, [...args.slice(0, args.indexOf("serve")), "runs", "--json", "--runs-dir", runsDir], { encoding: "utf8", timeout: 20_000 });
    expect(runs.error).toBeUndefined();
    expect(runs.status).toBe(0);
    await afterCase(server, token);
  });
});

describe("the private work directory itself", () => {
  test("below /tmp (as in this suite) it is not private: the server warns at start-up and doctor says WARN", async () => {
    expect(server.stderr()).toContain("is not private: it lies below");
    const { command, args } = serverCommand([]);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: scratch.tmp, CODEX_HOME: scratch.codexHome };
    const doctor = spawnSync(command, [...args.slice(0, args.indexOf("serve")), "doctor", "--json", "--root", scratch.root], { cwd: scratch.root, env, encoding: "utf8", timeout: 60_000 });
    const report = JSON.parse(doctor.stdout);
    expect(report.work_dir).toBe(workDirOf(scratch));
    expect(report.checks.find((c: any) => c.id === "work dir").status).toBe("WARN");
  });

  test("a symlink in its place (to where a sandbox can write) is refused, and nothing is made at its target", async () => {
    countBadInput();
    const work = workDirOf(scratch);
    const reachable = path.join(scratch.tmp, "reachable");
    await mkdir(reachable);
    await rename(work, `${work}.real`);
    await symlink(reachable, work);
    try {
      const token = newToken("work-link");
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token) });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("is a symbolic link");
      expect(text(result)).not.toContain("internal error");
      expect(await readdir(reachable)).toEqual([]);
      expect((await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))).toEqual([]);
    } finally {
      await rm(work);
      await rename(`${work}.real`, work);
      await rm(reachable, { recursive: true });
    }
    await afterCase(server);
  });
});
