// The tree lock (src/runs/tree-lock.ts): which runs may overlap, in what order waiting ones start, and that it holds
// across processes on one work directory (claims of dead processes recovered, unknown ones honoured).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { currentOwner } from "../../src/runs/owner.ts";
import { claimsConflict, holdResolvedCwd, TREE_LOCK_DIR, TreeLock, writesInPlace, type TreeClaim } from "../../src/runs/tree-lock.ts";
import { bunBin, repoRoot } from "../helpers/paths.ts";

const writer = (cwd: string): TreeClaim => ({ cwd, writesInPlace: true, label: `w:${cwd}` });
const reader = (cwd: string): TreeClaim => ({ cwd, writesInPlace: false, label: `r:${cwd}` });

describe("claimsConflict", () => {
  test("a writer conflicts with a run strictly inside its cwd, in either order", () => {
    expect(claimsConflict(writer("/r"), reader("/r/sub"))).toBe(true);
    expect(claimsConflict(reader("/r/sub/deep"), writer("/r"))).toBe(true);
    expect(claimsConflict(writer("/r"), writer("/r/sub"))).toBe(true);
  });
  test("the same cwd, siblings, sibling prefixes and two readers do not conflict", () => {
    expect(claimsConflict(writer("/r"), reader("/r"))).toBe(false);
    expect(claimsConflict(writer("/r/a"), reader("/r/b"))).toBe(false);
    expect(claimsConflict(writer("/r"), reader("/r-evil/x"))).toBe(false);
    expect(claimsConflict(reader("/r"), reader("/r/sub"))).toBe(false);
    expect(claimsConflict(reader("/r"), writer("/r/sub"))).toBe(false); // the writer below cannot touch /r's path
  });
  test("only isolation none with a writable sandbox writes in place", () => {
    expect(writesInPlace("none", "workspace-write")).toBe(true);
    expect(writesInPlace("none", "danger-full-access")).toBe(true);
    expect(writesInPlace("none", "read-only")).toBe(false);
    expect(writesInPlace("worktree", "workspace-write")).toBe(false);
  });
});

let workDir: string;
beforeAll(async () => {
  workDir = path.join(await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-tree-lock-"))), "work");
});
afterAll(async () => {
  await rm(path.dirname(workDir), { recursive: true, force: true });
});
const lockDir = () => path.join(workDir, TREE_LOCK_DIR);
const claimFiles = async () => (await readdir(lockDir()).catch(() => [])).filter((n) => n.endsWith(".claim"));

/**
 * Arrival order: a reader of /r/sub holds its claim; a writer of /r arrives (waiting for it), then a reader of
 * /r/other, which conflicts only with the waiting writer. Neither is granted while the first reader holds; once it
 * releases, the order the two were granted in is returned. `betweenMs` separates the two arrivals; `beforeCheckMs` is
 * how long they are given to be (wrongly) granted.
 */
async function grantOrder(locks: { first: TreeLock; writer: TreeLock; later: TreeLock }, waits: { betweenMs: number; beforeCheckMs: number }): Promise<string[]> {
  const order: string[] = [];
  const first = await locks.first.hold(reader("/r/sub"));
  const w = locks.writer.hold(writer("/r")).then((release) => { order.push("writer"); return release; });
  if (waits.betweenMs > 0) await Bun.sleep(waits.betweenMs);
  const r2 = locks.later.hold(reader("/r/other")).then((release) => { order.push("reader2"); return release; });
  await Bun.sleep(waits.beforeCheckMs);
  expect(order).toEqual([]);
  first();
  (await w)();
  (await r2)();
  return order;
}

describe("TreeLock", () => {
  test("constructing it writes nothing; the directory appears when a run takes a claim, and is gone again after", async () => {
    const lock = new TreeLock(workDir);
    expect(existsSync(workDir)).toBe(false);
    const release = await lock.hold(reader("/r"));
    expect((await stat(lockDir())).mode & 0o777).toBe(0o700);
    expect(await claimFiles()).toHaveLength(1);
    release();
    release(); // twice is harmless
    expect(existsSync(lockDir())).toBe(false);
    (await lock.hold(reader("/r")))(); // made again when needed
    expect(existsSync(lockDir())).toBe(false);
  });
  test("a conflicting run waits until the writer releases, and is told why", async () => {
    const lock = new TreeLock(workDir);
    const releaseWriter = await lock.hold(writer("/r"));
    const reasons: string[] = [];
    let started = false;
    const waiting = lock.hold(reader("/r/sub"), { onWait: (why) => reasons.push(why) }).then((release) => { started = true; return release; });
    await Bun.sleep(50);
    expect(started).toBe(false);
    expect(reasons[0]).toContain('"w:/r" can write in place in /r');
    releaseWriter();
    (await waiting)();
    expect(started).toBe(true);
    expect(lock.holding).toBe(0);
  });
  test("arrival order: a later reader does not overtake a waiting writer it conflicts with", async () => {
    const lock = new TreeLock(workDir);
    expect(await grantOrder({ first: lock, writer: lock, later: lock }, { betweenMs: 0, beforeCheckMs: 50 })).toEqual(["writer", "reader2"]);
  });
  test("a waiting run that is cancelled leaves the queue, and later runs are not held up by it", async () => {
    const lock = new TreeLock(workDir);
    const release = await lock.hold(reader("/r/sub"));
    const controller = new AbortController();
    const w = lock.hold(writer("/r"), { signal: controller.signal });
    const r2 = lock.hold(reader("/r/x"));
    controller.abort(new Error("cancelled"));
    await expect(w).rejects.toThrow("cancelled");
    (await r2)();
    release();
    expect(lock.holding).toBe(0);
    expect(await claimFiles()).toEqual([]);
  });
});

describe("across processes (one work directory)", () => {
  test("two locks on one work directory see each other's claims, in arrival order", async () => {
    const a = new TreeLock(workDir);
    const b = new TreeLock(workDir);
    // b's writer, then a's later reader: a sees b's claim file, written before its own.
    expect(await grantOrder({ first: a, writer: b, later: a }, { betweenMs: 50, beforeCheckMs: 300 })).toEqual(["writer", "reader2"]);
    expect(await claimFiles()).toEqual([]);
  });

  test("many claims through three locks at once: no two conflicting claims are ever held together", async () => {
    const locks = [new TreeLock(workDir, { pollMs: 5 }), new TreeLock(workDir, { pollMs: 5 }), new TreeLock(workDir, { pollMs: 5 })];
    const cwds = ["/r", "/r/a", "/r/a/b", "/r/c"];
    const held = new Set<TreeClaim>();
    const overlaps: string[] = [];
    let granted = 0;
    await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      const claim: TreeClaim = { cwd: cwds[i % cwds.length]!, writesInPlace: i % 3 === 0, label: `c${i}` };
      await Bun.sleep(Math.random() * 20);
      const release = await locks[i % locks.length]!.hold(claim);
      for (const other of held) if (claimsConflict(claim, other)) overlaps.push(`${claim.label} with ${other.label}`);
      held.add(claim);
      granted += 1;
      await Bun.sleep(Math.random() * 5);
      held.delete(claim);
      release();
    }));
    expect(overlaps).toEqual([]);
    expect(granted).toBe(60);
    expect(existsSync(lockDir())).toBe(false);
  });

  test("a claim of another process holds until that process is killed; its claim is then recovered", async () => {
    const script = `import { TreeLock } from ${JSON.stringify(path.join(repoRoot, "src", "runs", "tree-lock.ts"))};
      await new TreeLock(${JSON.stringify(workDir)}).hold({ cwd: "/r", writesInPlace: true, label: "other-process" });
      process.stdout.write("held\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(bunBin, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => { if (chunk.toString().includes("held")) resolve(); });
        child.once("exit", (code) => reject(new Error(`the other process exited (${code})`)));
      });
      const lock = new TreeLock(workDir, { pollMs: 20 });
      const reasons: string[] = [];
      let started = false;
      const waiting = lock.hold(reader("/r/sub"), { onWait: (why) => reasons.push(why) }).then((release) => { started = true; return release; });
      await Bun.sleep(300);
      expect(started).toBe(false);
      expect(reasons[0]).toStartWith(`waiting for "other-process" (in another codex-subagents process, pid ${child.pid}) to end: "other-process" can write in place in /r`);
      child.kill("SIGKILL");
      (await waiting)();
      expect(started).toBe(true);
      expect(await claimFiles()).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  });

  /** A claim file as another process would have left it, first in the queue. */
  async function plantClaim(owner: Record<string, unknown>, body?: string): Promise<string> {
    await mkdir(lockDir(), { recursive: true, mode: 0o700 });
    const file = path.join(lockDir(), `0000000000000001-${"a".repeat(32)}.claim`);
    await writeFile(file, body ?? JSON.stringify({ v: 1, cwd: "/r", writesInPlace: true, label: "planted", owner }));
    return file;
  }
  const me = async () => JSON.parse(JSON.stringify(await currentOwner())) as Record<string, unknown>;

  test("a dead process's claim is recovered; so is one whose pid now belongs to a process started later (Linux)", async () => {
    const dead = spawnSync(bunBin, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const owners: Record<string, unknown>[] = [{ ...(await me()), pid: Number(dead.stdout) }];
    // pid 1 is alive, but it is not the process that wrote the claim: its start time differs.
    if (process.platform === "linux") owners.push({ ...(await me()), pid: 1, start: "1" });
    for (const owner of owners) {
      const file = await plantClaim(owner);
      const release = await new TreeLock(workDir).hold(reader("/r/sub"));
      expect(existsSync(file)).toBe(false);
      release();
    }
    // One that conflicts with nothing is removed too, by the next claim taken: the directory does not fill up.
    const unrelated = await plantClaim(owners[0]!, JSON.stringify({ v: 1, cwd: "/elsewhere", writesInPlace: false, label: "x", owner: owners[0] }));
    (await new TreeLock(workDir).hold(reader("/r")))();
    expect(existsSync(unrelated)).toBe(false);
    expect(existsSync(lockDir())).toBe(false);
  });

  test("a claim of another machine, or one that cannot be read, is honoured (fail closed) until it is removed", async () => {
    for (const [owner, body, words] of [
      [{ pid: 1, host: "another-machine" }, undefined, '"planted"'],
      [await me(), "not json", "cannot be read"],
    ] as const) {
      const file = await plantClaim(owner, body);
      const controller = new AbortController();
      const reasons: string[] = [];
      const waiting = new TreeLock(workDir, { pollMs: 20 }).hold(reader("/r/sub"), { signal: controller.signal, onWait: (why) => reasons.push(why) });
      await Bun.sleep(200);
      expect(reasons[0]).toContain(words);
      controller.abort(new Error("gave up"));
      await expect(waiting).rejects.toThrow("gave up");
      expect(existsSync(file)).toBe(true);
      await rm(file);
      expect(await claimFiles()).toEqual([]);
    }
  });

  test("the claims' directory must be a real directory of ours", async () => {
    const other = path.join(path.dirname(workDir), "elsewhere");
    await mkdir(other);
    const linked = path.join(path.dirname(workDir), "linked-work");
    await mkdir(linked, { mode: 0o700 });
    await symlink(other, path.join(linked, TREE_LOCK_DIR));
    await expect(new TreeLock(linked).hold(reader("/r"))).rejects.toThrow("is not a directory of this user's");
    expect(await readdir(other)).toEqual([]);
  });
});

test("holdResolvedCwd takes the claim again when the path now names another directory", async () => {
  const lock = new TreeLock(workDir);
  const claimed: string[] = [];
  const paths = ["/r/b", "/r/b"];
  const held = await holdResolvedCwd({ hold: (claim, o) => { claimed.push(claim.cwd); return lock.hold(claim, o); } }, "/r/a", async () => paths.shift()!, reader);
  expect(held.cwd).toBe("/r/b");
  expect(claimed).toEqual(["/r/a", "/r/b"]);
  held.release();
  expect(lock.holding).toBe(0);
  await expect(holdResolvedCwd(lock, "/r/a", async () => { throw new Error("gone"); }, reader)).rejects.toThrow("gone");
  expect(lock.holding).toBe(0);
});
