/**
 * A delegation's plan: every check a request gets before it waits for a slot (depth, task size, resume, agent,
 * sandbox, capabilities, isolation, cwd, environment), and what it resolves to. One function, so a background start
 * (runs/manager.ts) refuses exactly what a foreground call refuses. Running the plan is run.ts.
 */
import { stat } from "node:fs/promises";
import { validateSettings } from "../agents/parse.ts";
import { agentsPlaces, type Registry } from "../agents/registry.ts";
import { AGENT_NAME_PATTERN, hasErrors, type Agent, type IsolationMode } from "../agents/schema.ts";
import { Refusal, type RefusalParts } from "../errors.ts";
import { MAX_TASK_BYTES } from "../limits.ts";
import { refuseCodexLayerWriter } from "../codex/project-layers.ts";
import { agentsDirInReach } from "../policy/agents-in-reach.ts";
import { grantsWithinCeilings, networkForSandbox, requestedGrants, type Grants } from "../policy/capabilities.ts";
import { capToCallerSandbox } from "../policy/caller-sandbox.ts";
import { refuseGitDirectory } from "../policy/git-dir.ts";
import { outputSchemaProblem } from "../policy/output-schema.ts";
import { PolicyError, resolveAllowedDir, type Root } from "../policy/roots.ts";
import { DEFAULT_SANDBOX, sandboxWithinCeiling, type SandboxMode } from "../policy/sandbox.ts";
import { writesInPlace } from "../runs/tree-lock.ts";
import type { DelegateInput } from "../shapes/delegate-input.ts";
import { didYouMean } from "../suggest.ts";
import { GIT_MISSING } from "../workspace/git.ts";
import { checkDepsUse, depsFromCall } from "../workspace/deps.ts";
import type { DelegateContext } from "./context.ts";

/** The code of the refusal for an unknown agent (the CLI says its own next step for it). */
export const UNKNOWN_AGENT = "unknown_agent";

/** A request the server refuses; the message is shown to the caller as an isError result. */
export class DelegateError extends Refusal {
  override name = "DelegateError";
}

/** A helper's refusal as the caller's DelegateError; `agent` names the agent it is about, before the message. */
function refusedAs(problem: RefusalParts, agent?: string): DelegateError {
  return new DelegateError(agent === undefined ? problem.message : `agent "${agent}": ${problem.message}`, { hint: problem.hint });
}

const AD_HOC_KEYS = ["persona", "profile", "model", "reasoning_effort", "sandbox_mode", "approval_policy", "mcp_servers", "web_search", "network"] as const;

/** Resolve the agent a call names: a registry agent (its file is the only source of settings) or an ad-hoc one. */
export async function resolveAgent(input: DelegateInput, registry: Registry): Promise<Agent> {
  const given = AD_HOC_KEYS.filter((k) => input[k] !== undefined);
  const entry = registry.get(input.agent);
  if (entry) {
    if (given.length > 0) {
      throw new DelegateError(`agent "${input.agent}" is a registry agent (${entry.file}); ${given.join(", ")} cannot be set per call`, {
        hint: "edit its file to change it, or pick a new name for an ad-hoc agent",
      });
    }
    if (!entry.agent || hasErrors(entry.issues)) {
      const problems = entry.issues.filter((i) => i.level === "error").map((i) => `${i.field ? `${i.field}: ` : ""}${i.message}`);
      throw new DelegateError(`agent "${input.agent}" cannot be used: ${entry.file} has errors: ${problems.join("; ")}`, {
        hint: "fix the file (codex-subagents validate shows every issue)",
      });
    }
    return entry.agent;
  }
  if (input.persona === undefined) throw unknownAgent(input.agent, registry);
  if (!AGENT_NAME_PATTERN.test(input.agent)) {
    throw new DelegateError(`ad-hoc agent name "${input.agent}" must match ${AGENT_NAME_PATTERN}`, { hint: "use lowercase letters, digits, _ and -" });
  }
  const raw: Record<string, unknown> = {};
  for (const key of AD_HOC_KEYS) if (key !== "persona" && input[key] !== undefined) raw[key] = input[key];
  const { settings, issues } = validateSettings(raw);
  if (hasErrors(issues)) throw new DelegateError(issues.map((i) => i.message).join("; "));
  if (input.persona.trim() === "") throw new DelegateError("persona is empty", { hint: "give the ad-hoc agent its instructions" });
  return { name: input.agent, file: "(ad-hoc)", persona: input.persona.trim(), ...settings };
}

/** The refusal for a name no agent has: the closest name, the known ones, and where they were read from. */
export function unknownAgent(name: string, registry: Registry): DelegateError {
  const known = registry.agents().map((a) => a.name);
  const where = registry.location.dir
    ? ` in the agents directory "${registry.location.dir}" (${registry.location.foundBy}${registry.location.starters ? ", with the embedded starters below it" : ""})`
    : "";
  return new DelegateError(`unknown agent "${name}"${where}${didYouMean(name, known)}; known: ${known.length ? known.join(", ") : "(none)"}`, {
    code: UNKNOWN_AGENT,
    hint: "pass persona (and any setting) to run an ad-hoc agent of that name, or call list_agents to see each agent and what it is for",
  });
}

export function chooseIsolation(input: DelegateInput, agent: Agent): IsolationMode {
  if (input.mirror_repo === true && input.isolation !== undefined && input.isolation !== "mirror") {
    throw new DelegateError(`mirror_repo: true conflicts with isolation "${input.isolation}"`, { hint: "give only isolation" });
  }
  if (input.isolation) return input.isolation;
  if (input.mirror_repo === true) return "mirror";
  return agent.isolation ?? "none";
}

/** Refusals about the call's surroundings, checked before it waits for a slot: each names the thing and the fix. */
async function environmentProblem(input: DelegateInput, isolation: IsolationMode, ctx: DelegateContext): Promise<RefusalParts | null> {
  if (input.output_schema !== undefined) {
    const problem = outputSchemaProblem(input.output_schema);
    if (problem) return problem;
  }
  if (isolation === "worktree" && ctx.git.program === null) {
    return GIT_MISSING;
  }
  const tmp = ctx.parentEnv.TMPDIR;
  if (tmp !== undefined && tmp !== "" && !(await stat(tmp).then((info) => info.isDirectory(), () => false))) {
    return {
      message: `TMPDIR "${tmp}" (in the server's environment, handed on to codex) does not exist or is not a directory, so the sub-agent could not make temporary files`,
      hint: "create it, or start the server with TMPDIR unset or pointing at a directory",
    };
  }
  return null;
}

/** What a request resolves to before it waits for a slot. */
export interface DelegationPlan {
  agent: Agent;
  /** The sandbox codex gets: the agent's, within --max-sandbox, never looser than the caller's own. */
  sandbox: SandboxMode;
  isolation: IsolationMode;
  /** The cwd as the call gave it (or the context's default cwd): what is resolved and checked again later. */
  requestedCwd: string;
  /** Its real path when the call arrived, checked against the roots. */
  cwd: string;
  timeoutS: number;
  /** What the sub-agent may reach beyond its sandbox, within the server's ceilings and its sandbox. */
  grants: Grants;
  /** Why the sandbox or a grant is lower than the agent asked for, if it is. */
  notes: readonly string[];
}

/**
 * Every check a request gets before it queues: depth, task size, resume, agent, sandbox, isolation, cwd. One
 * function, so a background start (runs/manager.ts) refuses exactly what a foreground call refuses.
 */
export async function planDelegation(input: DelegateInput, ctx: DelegateContext, callerSandbox?: SandboxMode): Promise<DelegationPlan> {
  if (ctx.depth + 1 > ctx.maxDepth) {
    throw new DelegateError(`nesting limit reached: this server runs at depth ${ctx.depth} and --max-depth is ${ctx.maxDepth}, so it cannot start another sub-agent`, {
      hint: "do the work here, or raise --max-depth on the top-level server",
    });
  }
  if (Buffer.byteLength(input.task, "utf8") > MAX_TASK_BYTES) throw new DelegateError("task is over 1 MiB", { hint: "shorten it or point the sub-agent at files instead" });
  // Security: continue only a thread this server started (runs/threads.ts), never another session's.
  if (input.resume !== undefined && !(await ctx.threads.known(input.resume))) throw refusedAs(ctx.threads.refusal(input.resume));
  const registry = await ctx.registry();
  const agent = await resolveAgent(input, registry);
  const mapped = agent.format && agent.format !== "codex-subagents" ? { agent: agent.name, format: agent.format, from: agent.sandbox_from } : null;
  const ceiling = sandboxWithinCeiling(agent.sandbox_mode ?? DEFAULT_SANDBOX, ctx.maxSandbox, mapped);
  if ("refusal" in ceiling) throw refusedAs(ceiling.refusal, agent.name);
  const { sandbox, note: sandboxNote } = capToCallerSandbox(ceiling.sandbox, callerSandbox);
  // Security (policy/capabilities.ts): grants within --allow-mcp, --max-web-search and --allow-network, refused or
  // capped like the sandbox; network only for the sandbox this run really got.
  const within = grantsWithinCeilings(requestedGrants(agent), ctx.ceilings, mapped);
  if ("refusal" in within) throw refusedAs(within.refusal, agent.name);
  const network = networkForSandbox(within.grants.network, sandbox, agent.name);
  const grants: Grants = { ...within.grants, network: network.network };
  const isolation = chooseIsolation(input, agent);
  const requestedCwd = input.cwd ?? ctx.defaultCwd;
  let cwd: string;
  try {
    // Checked now to refuse at once; checked again after the wait and right before codex starts (delegate()).
    cwd = await checkedCwd(requestedCwd, ctx.roots, writesInPlace(isolation, sandbox));
  } catch (error) {
    if (error instanceof PolicyError) throw new DelegateError(error.message, { hint: error.hint });
    throw error;
  }
  // Security: a run that writes in place never gets the agents directory in its reach, nor a place that would
  // outrank it at the next start (policy/agents-in-reach.ts).
  if (writesInPlace(isolation, sandbox)) await refuseAgentsInReach(registry, cwd);
  const problem = await environmentProblem(input, isolation, ctx);
  if (problem) throw refusedAs(problem);
  // Security: worktree_deps is refused before anything is made where it cannot hold (no links to the user's own
  // dependencies without a sandbox to stop writes through them).
  const fromCall = depsFromCall(input.worktree_deps);
  if ("error" in fromCall) throw refusedAs(fromCall.error);
  const depsProblem = checkDepsUse(fromCall.setting ?? agent.worktree_deps, isolation, sandbox, input.worktree_deps !== undefined);
  if (depsProblem) throw refusedAs(depsProblem, agent.name);
  const timeoutS = Math.min(input.timeout_s ?? agent.timeout_s ?? ctx.maxTimeoutS, ctx.maxTimeoutS);
  const notes = [...(ceiling.note ? [ceiling.note] : []), ...(sandboxNote ? [sandboxNote] : []), ...within.notes, ...(network.note ? [network.note] : [])];
  return { agent, sandbox, isolation, requestedCwd, cwd, timeoutS, grants, notes };
}

/**
 * `requestedCwd` as its real path inside the roots; refused (PolicyError) in a git directory, and for a run that writes
 * in place in a `.codex` directory (codex/project-layers.ts). Checked when the call is planned and again when it runs.
 */
export async function checkedCwd(requestedCwd: string, roots: readonly Root[], inPlace: boolean): Promise<string> {
  return refuseCodexLayerWriter(await refuseGitDirectory(await resolveAllowedDir(requestedCwd, roots, "cwd")), inPlace);
}

/** Refuse a run that writes in place in `cwd` when the agents, or a place that would outrank them, are in its reach. */
export async function refuseAgentsInReach(registry: Registry, cwd: string): Promise<void> {
  const problem = agentsDirInReach(await agentsPlaces(registry.location), cwd);
  if (problem) throw refusedAs(problem);
}
