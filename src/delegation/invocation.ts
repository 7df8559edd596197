/**
 * Pure: a plan and the workspace it got → the codex argv and the files it names. Testable without spawning.
 */
import path from "node:path";
import type { Agent } from "../agents/schema.ts";
import { buildCodexArgs, findOversizedArg } from "../codex/args.ts";
import type { SandboxMode } from "../policy/sandbox.ts";

export interface Invocation {
  readonly args: readonly string[];
  /** Where codex writes its last message (in the run's private directory). */
  readonly lastMessageFile: string;
  /** Where the call's output_schema is written for codex, when it gave one. */
  readonly outputSchemaFile?: string;
  /** Why the argv cannot be used (an argument too long for the OS), or null. */
  readonly problem: string | null;
}

export function planInvocation(
  plan: { agent: Agent; sandbox: SandboxMode },
  request: { resume?: string; output_schema?: Record<string, unknown> },
  dirs: { workingDir: string; runDir: string },
): Invocation {
  const lastMessageFile = path.join(dirs.runDir, "last-message.txt");
  const outputSchemaFile = request.output_schema ? path.join(dirs.runDir, "output-schema.json") : undefined;
  const args = buildCodexArgs({
    agent: { ...plan.agent, sandbox_mode: plan.sandbox },
    workingDir: dirs.workingDir,
    resumeThreadId: request.resume,
    lastMessageFile,
    outputSchemaFile,
  });
  return { args, lastMessageFile, ...(outputSchemaFile ? { outputSchemaFile } : {}), problem: findOversizedArg(args) };
}
