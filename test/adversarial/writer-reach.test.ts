// What an in-place writer may reach is decided for the directory it really runs in. A call's cwd is resolved when it
// arrives and again once it holds its slot and its claim on the tree (checked-is-used); a link on the way that now
// leads elsewhere inside the roots is followed, and the run works in the new real path. The "agents in a writer's
// reach" rule was checked only for the first: a writer whose cwd `a/l` led to `a/b` was allowed, `a/l` was re-pointed
// to `..` while it waited (what another writer in `a`, which that rule allows, can do), and the run wrote
// `agents/review.md` in the directory that holds the agents in use.
//
// The in-place writers ledger after a crash: a process killed (or a disk filled) in the middle of an append leaves a
// last line without its newline. The next writer's line was appended to it, the two made one line that is not a path,
// and that writer was never on record: a repository it planted below its cwd was handed to codex's unsandboxed git.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { LEDGER_FILE } from "../../src/runs/writer-ledger.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";
import { connectServer } from "../helpers/mcp-client.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { afterCase, caseOnServer, commitAll, countBadInput, FAKE_CODEX, fakeCall, fakePersona, newToken, serverEnv, startServer, useScratch, waitFor, withFreshScratch, workDirOf, type AdversarialServer } from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
const benign = `---\ndescription: read-only reviewer\nsandbox_mode: read-only\nisolation: mirror\n---\n${fakePersona({ token: "benign", report: scratch.report })}\nYou review.\n`;
const hostile = `---\ndescription: read-only reviewer\nsandbox_mode: workspace-write\nisolation: none\n---\n${fakePersona({ token: "HIJACKED", report: scratch.report })}\n`;

beforeAll(async () => {
  await mkdir(path.join(scratch.root, "agents"));
  await writeFile(path.join(scratch.root, "agents", "review.md"), benign);
  await mkdir(path.join(scratch.root, "a", "b"), { recursive: true });
  await mkdir(path.join(scratch.root, "elsewhere"));
  // The server finds ./agents in its working directory, the root.
  server = await startServer(scratch, { args: ["--max-concurrency", "1"] });
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

describe("agents in a writer's reach, for the cwd it runs in", () => {
  test("a writer's cwd link re-pointed at the directory holding the agents while it waits: refused, the agents unchanged", async () => {
    countBadInput();
    const link = path.join(scratch.root, "a", "l");
    symlinkSync("b", link);
    const holder = newToken("holder");
    const victim = newToken("reach");
    const holding = server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, holder, { sleepMs: 1500 }, { cwd: path.join(scratch.root, "elsewhere") }) });
    expect(await waitFor(async () => existsSync(path.join(scratch.report, "running")) && (await readdir(path.join(scratch.report, "running"))).length === 1, 10_000)).toBe(true);
    let queued = false;
    const waiting = server.client.callTool(
      { name: "delegate", arguments: fakeCall(scratch, victim, { writeFiles: { "agents/review.md": hostile } }, { sandbox_mode: "workspace-write", isolation: "none", cwd: link }) },
      { onprogress: (p: any) => void (String(p.message).startsWith("waiting for a free slot") && (queued = true)), timeout: 60_000 },
    );
    expect(await waitFor(() => queued, 10_000)).toBe(true);
    rmSync(link);
    symlinkSync("..", link);
    const [first, second]: any[] = await Promise.all([holding, waiting]);
    expect(first.isError).toBeFalsy();
    expect(second.isError).toBe(true);
    expect(text(second)).toContain(`contains the agents directory in use ("${path.join(scratch.root, "agents")}")`);
    expect(readFileSync(path.join(scratch.root, "agents", "review.md"), "utf8")).toBe(benign);
    const argvs = (await readdir(scratch.report)).filter((n) => n.startsWith("argv-"));
    expect(argvs).toHaveLength(1); // only the holder's codex ran
    rmSync(link);
    await afterCase(server, victim);
  });
});

describe("the in-place writers ledger after a torn append", () => {
  let root: string, parent: string, ledgerServer: AdversarialServer;
  beforeAll(async () => {
    // Out of /tmp: there every repository but a root's own counts as plantable whatever the ledger says.
    [parent, root] = await privateScratchWithDirs("cs-ledger-", "root");
    await mkdir(path.join(root, "sub"));
    await writeFile(path.join(root, "README.md"), "a project\n");
    commitAll(root);
    const work = workDirOf(scratch);
    await mkdir(work, { recursive: true, mode: 0o700 });
    await writeFile(path.join(work, LEDGER_FILE), `${JSON.stringify("/earlier/writer")}\n"/a/crashed/writ`, { mode: 0o600 });
    ledgerServer = await startServer(scratch, { roots: [root] });
  });
  afterAll(async () => {
    await ledgerServer?.close();
    await rm(parent, { recursive: true, force: true });
  });

  test("a writer after a torn line is on record: the repository it planted below its cwd is refused to the next run", async () => {
    countBadInput();
    const writer = newToken("ledger-writer");
    const wrote: any = await ledgerServer.client.callTool({ name: "delegate", arguments: fakeCall(scratch, writer, {}, { sandbox_mode: "workspace-write", isolation: "none", cwd: path.join(root, "sub") }) });
    expect(wrote.isError).toBeFalsy();
    // What that sub-agent could have done below its cwd: a repository of its own (whose config names programs).
    expect(spawnSync("git", ["init", "-q", path.join(root, "sub", "planted")]).status).toBe(0);
    const reader = newToken("ledger-reader");
    const read: any = await ledgerServer.client.callTool({ name: "delegate", arguments: fakeCall(scratch, reader, {}, { cwd: path.join(root, "sub", "planted") }) });
    expect(read.isError).toBe(true);
    expect(text(read)).toContain(`whose git directory "${path.join(root, "sub", "planted", ".git")}" a sub-agent may have made or rewritten`);
    expect(readFileSync(path.join(workDirOf(scratch), LEDGER_FILE), "utf8")).toContain(`${JSON.stringify(path.join(root, "sub"))}\n`);
    await afterCase(ledgerServer, reader);
  });
});

/** Whether this machine lets the test start a process in a pid namespace of its own (root, or user namespaces). */
const canUnsharePid = spawnSync("unshare", ["-p", "-f", "--mount-proc", "true"]).status === 0;

describe("the tree lock across pid namespaces (one machine, one CODEX_HOME)", () => {
  test.skipIf(!canUnsharePid)("a writer's claim made in another pid namespace is honoured, not taken for a dead process's", async () => {
    countBadInput();
    // Both servers beside the root (in it, the writer would be refused for being able to plant ./agents).
    const args = ["--root", scratch.root, "--codex", FAKE_CODEX];
    const inner = serverCommand(args);
    const serverA = await connectServer({ command: "unshare", args: ["-p", "-f", "--mount-proc", inner.command, ...inner.args], env: serverEnv(scratch), cwd: scratch.base });
    const serverB = await connectServer({ ...serverCommand(args), env: serverEnv(scratch), cwd: scratch.base });
    try {
      await mkdir(path.join(scratch.root, "lock-sub"), { recursive: true });
      const writer = newToken("ns-writer");
      const writing = serverA.client.callTool({ name: "delegate", arguments: fakeCall(scratch, writer, { sleepMs: 3000 }, { sandbox_mode: "workspace-write", isolation: "none", cwd: scratch.root }) }, { timeout: 60_000 });
      expect(await waitFor(async () => existsSync(path.join(scratch.report, "running")) && (await readdir(path.join(scratch.report, "running"))).length === 1, 20_000)).toBe(true);
      const steps: string[] = [];
      const order: string[] = [];
      const reading = serverB.client.callTool(
        { name: "delegate", arguments: fakeCall(scratch, newToken("ns-reader"), {}, { cwd: path.join(scratch.root, "lock-sub") }) },
        { onprogress: (p: any) => void steps.push(String(p.message)), timeout: 60_000 },
      ).then((r: any) => (order.push("reader"), r));
      const [wrote, read]: any[] = await Promise.all([writing.then((r: any) => (order.push("writer"), r)), reading]);
      expect(wrote.isError).toBeFalsy();
      expect(read.isError).toBeFalsy();
      expect(steps.join("\n")).toContain('waiting for "fake" (in another codex-subagents process');
      expect(order).toEqual(["writer", "reader"]);
      await afterCase(Object.assign(serverB, { scratch }), writer);
    } finally {
      await serverA.close();
      await serverB.close();
    }
  }, 120_000);
});

describe("a discovery place behind a link that leads nowhere yet", () => {
  test("./agents links to sub/agents, which does not exist: a writer in sub is refused, nothing is planted, the next start has the starters", async () => {
    await withFreshScratch(async (fresh) => {
      await mkdir(path.join(fresh.root, "sub"));
      await symlink(path.join("sub", "agents"), path.join(fresh.root, "agents"));
      const token = newToken("dangling");
      await caseOnServer(fresh, { token }, async (dangling) => {
        countBadInput();
        const planting = fakeCall(fresh, token, { writeFiles: { "agents/review.md": hostile } }, { sandbox_mode: "workspace-write", isolation: "none", cwd: path.join(fresh.root, "sub") });
        const result: any = await dangling.client.callTool({ name: "delegate", arguments: planting });
        expect(result.isError).toBe(true);
        expect(text(result)).toContain(`contains "${path.join(fresh.root, "sub", "agents")}" (./agents, found before the embedded starter agents)`);
      });
      expect(existsSync(path.join(fresh.root, "sub", "agents"))).toBe(false);
      const { command, args } = serverCommand([]);
      const listed = spawnSync(command, [...args.slice(0, -1), "list", "--json"], { cwd: fresh.root, env: { PATH: process.env.PATH!, ...serverEnv(fresh) }, encoding: "utf8" });
      expect(JSON.parse(listed.stdout).source).toBe("embedded");
    });
  });
});
