/**
 * Pure: a plan and the workspace it got → the codex invocation, then (once its reach is settled, delegation/reach.ts)
 * the argv and the files it names. Testable without spawning.
 */
import path from "node:path";
import type { Agent } from "../agents/schema.ts";
import { buildCodexArgs, findOversizedArg, type CodexInvocation, type CodexReach } from "../codex/args.ts";
import type { RefusalParts } from "../errors.ts";
import type { SandboxMode } from "../policy/sandbox.ts";

export interface Invocation {
  readonly args: readonly string[];
  /** Where codex writes its last message (in the run's private directory). */
  readonly lastMessageFile: string;
  /** Where the call's output_schema is written for codex, when it gave one. */
  readonly outputSchemaFile?: string;
  /** Why the argv cannot be used (an argument too long for the OS), or null. */
  readonly problem: RefusalParts | null;
}

/** The invocation but for its reach: the agent with the sandbox it runs in, the directory, the thread, the files. */
export function invocationOf(
  plan: { agent: Agent; sandbox: SandboxMode },
  request: { resume?: string; output_schema?: Record<string, unknown> },
  dirs: { workingDir: string; runDir: string },
): Omit<CodexInvocation, "reach"> {
  return {
    agent: { ...plan.agent, sandbox_mode: plan.sandbox },
    workingDir: dirs.workingDir,
    resumeThreadId: request.resume,
    lastMessageFile: path.join(dirs.runDir, "last-message.txt"),
    outputSchemaFile: request.output_schema ? path.join(dirs.runDir, "output-schema.json") : undefined,
  };
}

export function planInvocation(base: Omit<CodexInvocation, "reach">, reach: CodexReach): Invocation {
  const args = buildCodexArgs({ ...base, reach });
  return { args, lastMessageFile: base.lastMessageFile, ...(base.outputSchemaFile ? { outputSchemaFile: base.outputSchemaFile } : {}), problem: findOversizedArg(args) };
}
