/** The plan of a delegation, which needs no codex: agent, sandbox, isolation, cwd, limits, and the refusals. */
import { describe, expect, test } from "bun:test";
import os from "node:os";
import path from "node:path";
import { DelegateError, planDelegation } from "../../src/delegation/plan.ts";
import { useAdHocRoot } from "../helpers/delegate-context.ts";

const { root, context } = useAdHocRoot();

const refusal = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e as Error);

describe("the plan", () => {
  test("an ad-hoc agent: its settings, the first root as cwd, the server's timeout, read-only by default", async () => {
    const plan = await planDelegation({ agent: "adhoc", persona: "  be brief  ", task: "t", model: "m1" }, await context());
    expect(plan.agent).toMatchObject({ name: "adhoc", persona: "be brief", model: "m1", file: "(ad-hoc)" });
    expect(plan.sandbox).toBe("read-only");
    expect(plan.isolation).toBe("none");
    expect(plan.cwd).toBe(root());
    expect(plan.timeoutS).toBe(600);
    expect(plan.notes).toEqual([]);
  });

  test("limits: timeout_s lowers the server's, never raises it; cwd resolves inside the roots", async () => {
    const ctx = await context({ maxTimeoutS: 60 });
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", timeout_s: 5 }, ctx)).timeoutS).toBe(5);
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", timeout_s: 500 }, ctx)).timeoutS).toBe(60);
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", cwd: path.join(root(), "sub") }, ctx)).cwd).toBe(path.join(root(), "sub"));
  });

  test("the caller's own sandbox lowers the agent's, with a note", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t", sandbox_mode: "workspace-write" }, await context(), "read-only");
    expect(plan.sandbox).toBe("read-only");
    expect(plan.notes.length).toBe(1);
  });

  test("refusals, before anything is queued or spawned", async () => {
    const ctx = await context();
    expect((await refusal(planDelegation({ agent: "nobody", task: "t" }, ctx)))?.message).toContain('unknown agent "nobody"');
    expect(await refusal(planDelegation({ agent: "a", persona: "p", task: "t", sandbox_mode: "danger-full-access" }, ctx))).toBeInstanceOf(DelegateError);
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t", cwd: os.tmpdir() }, ctx)))).toBeInstanceOf(DelegateError);
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t", mirror_repo: true, isolation: "worktree" }, ctx)))?.message).toContain("conflicts");
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t" }, await context({ depth: 1 }))))?.message).toContain("nesting limit");
  });
});
