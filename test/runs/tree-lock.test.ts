// The run table's tree lock (src/runs/tree-lock.ts): which runs may overlap, and in what order waiting ones start.
import { describe, expect, test } from "bun:test";
import { claimsConflict, holdResolvedCwd, TreeLock, writesInPlace, type TreeClaim } from "../../src/runs/tree-lock.ts";

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

describe("TreeLock", () => {
  test("a conflicting run waits until the writer releases, and is told why", async () => {
    const lock = new TreeLock();
    const releaseWriter = await lock.hold(writer("/r"));
    const reasons: string[] = [];
    let started = false;
    const waiting = lock.hold(reader("/r/sub"), { onWait: (why) => reasons.push(why) }).then((release) => { started = true; return release; });
    await Bun.sleep(10);
    expect(started).toBe(false);
    expect(reasons[0]).toContain('"w:/r" can write in place in /r');
    releaseWriter();
    (await waiting)();
    expect(started).toBe(true);
    expect(lock.holding).toBe(0);
  });
  test("arrival order: a later reader does not overtake a waiting writer it conflicts with", async () => {
    const lock = new TreeLock();
    const order: string[] = [];
    const first = await lock.hold(reader("/r/sub"));
    const w = lock.hold(writer("/r")).then((release) => { order.push("writer"); return release; });
    const r2 = lock.hold(reader("/r/other")).then((release) => { order.push("reader2"); return release; });
    await Bun.sleep(10);
    expect(order).toEqual([]);
    first();
    (await w)();
    (await r2)();
    expect(order).toEqual(["writer", "reader2"]);
  });
  test("a waiting run that is cancelled leaves the queue, and later runs are not held up by it", async () => {
    const lock = new TreeLock();
    const release = await lock.hold(reader("/r/sub"));
    const controller = new AbortController();
    const w = lock.hold(writer("/r"), { signal: controller.signal });
    const r2 = lock.hold(reader("/r/x"));
    controller.abort(new Error("cancelled"));
    await expect(w).rejects.toThrow("cancelled");
    (await r2)();
    release();
    expect(lock.holding).toBe(0);
  });
});

test("holdResolvedCwd takes the claim again when the path now names another directory", async () => {
  const lock = new TreeLock();
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
