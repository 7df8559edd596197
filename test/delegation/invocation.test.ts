/** The codex invocation a plan turns into, without codex: argv, files in the run directory, an argument too long. */
import { describe, expect, test } from "bun:test";
import path from "node:path";
import { planDelegation } from "../../src/delegation/plan.ts";
import { invocationOf, planInvocation } from "../../src/delegation/invocation.ts";
import { useAdHocRoot } from "../helpers/delegate-context.ts";

const { context } = useAdHocRoot();

const REACH = { webSearch: "disabled", network: false, mcpServers: {}, untrustedProjects: [] } as const;

describe("the invocation", () => {
  test("argv from the plan: global options before exec, the task on stdin, files in the run directory", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t", model: "m1", sandbox_mode: "workspace-write" }, await context());
    const inv = planInvocation(invocationOf(plan, { resume: "01a210a5-85de-7012-9960-7201f5cddc86", output_schema: { type: "object" } }, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(inv.lastMessageFile).toBe(path.join("/r", "last-message.txt"));
    expect(inv.outputSchemaFile).toBe(path.join("/r", "output-schema.json"));
    expect(inv.problem).toBeNull();
    const args = [...inv.args];
    expect(args.slice(0, 6)).toEqual(["--sandbox", "workspace-write", "--model", "m1", "--cd", "/w"]);
    expect(args.slice(args.indexOf("exec"), args.indexOf("exec") + 3)).toEqual(["exec", "resume", "01a210a5-85de-7012-9960-7201f5cddc86"]);
    expect(args).toContain("--output-schema");
    expect(args.at(-1)).toBe("-");
  });

  test("no output_schema: no schema file; a persona too long for one argument is a problem, not a spawn error", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t" }, await context());
    const inv = planInvocation(invocationOf(plan, {}, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(inv.outputSchemaFile).toBeUndefined();
    expect(inv.args).not.toContain("--output-schema");
    const long = planInvocation(invocationOf({ ...plan, agent: { ...plan.agent, persona: "x".repeat(130 * 1024) } }, {}, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(long.problem?.hint).toContain("shorten the persona");
  });
});
