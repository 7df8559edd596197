// The mirror copy of a tree that changes while it is copied. A concurrent writer in the root (a workspace-write
// sub-agent with isolation "none") swaps regular files for FIFOs, or files and directories for symlinks out of cwd,
// while the server copies the tree for an isolation "mirror" call. The copy used to decide "file" from the directory
// listing and then open the path again, following links and blocking on a FIFO: the call hung for good, or outside
// files were copied into the mirror. Now every entry is opened with O_NOFOLLOW | O_NONBLOCK, checked on its handle, and
// copied from it (src/workspace/mirror-open.ts), and the set-up has a time limit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createMirror } from "../../src/workspace/mirror.ts";
import { afterCase, countBadInput, fakeCall, makeScratch, newToken, reportTally, startServer, type AdversarialServer, type Scratch } from "./harness.ts";

const N = Number(process.env.N ?? 20000);
const python = (code: string) => spawnSync("python3", ["-c", code]);
const makeFiles = (dir: string, n: number) => python(`import os\nfor i in range(${n}): open(os.path.join(${JSON.stringify(dir)}, "f%05d" % i), "w").write("x")`);

afterAll(() => reportTally(import.meta.file));

async function stop(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill();
  await exited;
}

describe("files swapped for FIFOs while the server mirrors the tree", () => {
  let scratch: Scratch;
  let server: AdversarialServer;

  beforeAll(async () => {
    scratch = await makeScratch();
    await mkdir(path.join(scratch.root, "d"));
    makeFiles(path.join(scratch.root, "d"), N);
    server = await startServer(scratch);
  });
  afterAll(async () => {
    await server?.close().catch(() => {});
    await scratch?.cleanup();
  });

  test("the call answers (FIFOs are left out), and the server still serves", async () => {
    countBadInput();
    const token = newToken("fifo");
    const call = server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { isolation: "mirror" }) }, { timeout: 45_000 });
    // The attacker: replace files by FIFOs (atomic rename), from the last one back, while the copy runs.
    const swapper = spawn("python3", ["-c", `import os\nd=${JSON.stringify(path.join(scratch.root, "d"))}\nfor i in reversed(range(${N})):\n  t=os.path.join(d,"t%05d"%i); os.mkfifo(t); os.rename(t, os.path.join(d,"f%05d"%i))`], { stdio: "inherit" });
    let outcome: string;
    try {
      const result: any = await call;
      outcome = `answered: ${JSON.stringify(result.structuredContent?.notes ?? result.content).slice(0, 400)}`;
    } catch (error) {
      outcome = `NO ANSWER: ${(error as Error).message}`;
    }
    await stop(swapper);
    expect(outcome).toStartWith("answered");
    await server.client.callTool({ name: "list_agents", arguments: {} }, { timeout: 15_000 });
    await afterCase(server, token);
  }, 120_000);
});

describe("files and directories swapped for symlinks out of cwd while the mirror is made", () => {
  let base: string, source: string, outside: string;
  const SECRET = "OUTSIDE-SECRET-must-not-reach-the-mirror";

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-adv-mirror-race-")));
    source = path.join(base, "src");
    outside = path.join(base, "outside");
    await mkdir(path.join(source, "d"), { recursive: true });
    await mkdir(path.join(source, "sub"), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, "secret.txt"), SECRET);
    makeFiles(path.join(outside), 50);
    makeFiles(path.join(source, "d"), 5000);
    makeFiles(path.join(source, "sub"), 2000);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test("nothing from outside cwd is copied in", async () => {
    countBadInput(2);
    for (let i = 0; i < 50; i += 1) await writeFile(path.join(outside, `f${String(i).padStart(5, "0")}`), SECRET);
    const swapper = spawn("python3", ["-c", `import os
d=${JSON.stringify(path.join(source, "d"))}; s=${JSON.stringify(path.join(source, "sub"))}; out=${JSON.stringify(outside)}
for i in reversed(range(5000)):
  t=os.path.join(d,"t%05d"%i); os.symlink(os.path.join(out,"secret.txt"), t); os.rename(t, os.path.join(d,"f%05d"%i))
  if i % 500 == 0:
    os.rename(s, s+".real"); os.symlink(out, s)
`], { stdio: "inherit" });
    const made = await createMirror(source, { logger: { warn: () => {}, debug: () => {} }, baseDir: base });
    await stop(swapper);
    try {
      const leaked: string[] = [];
      for (const entry of readdirSync(made.workingDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = path.join(entry.parentPath, entry.name);
        if (readFileSync(file, "utf8").includes(SECRET)) leaked.push(path.relative(made.workingDir, file));
      }
      process.stderr.write(`mirror notes: ${made.notes.join(" ").slice(0, 300)}\n`);
      expect(leaked).toEqual([]);
    } finally {
      await made.cleanup();
    }
  }, 60_000);

  test("a set-up past its time limit is refused, and leaves nothing behind", async () => {
    const before = readdirSync(base).sort();
    await expect(createMirror(path.join(source, "d"), { logger: { warn: () => {}, debug: () => {} }, baseDir: base, setupLimitMs: 1 })).rejects.toThrow("set-up limit");
    expect(readdirSync(base).sort()).toEqual(before);
  });
});
