/**
 * Pure: the checks that tie an agent's grants to its sandbox (docs/AGENT-FILES.md "Capabilities"). Each key is checked
 * on its own by its schema (schema.ts); what only makes sense together is checked here.
 */
import { DEFAULT_SANDBOX } from "../policy/sandbox.ts";
import type { AgentIssue, AgentSettings } from "./schema.ts";

/**
 * `network: true` is outbound network for the commands of a workspace-write sandbox. A read-only agent (also one that
 * names no sandbox) can never have it, so the file asks for something no run would get: an error, not a silent drop.
 * With danger-full-access there is no sandbox, so its commands have the network whatever the key says: a warning.
 */
export function grantIssues(settings: AgentSettings): AgentIssue[] {
  const sandbox = settings.sandbox_mode ?? DEFAULT_SANDBOX;
  if (settings.network === true && sandbox === "read-only") {
    return [{
      level: "error", code: "NETWORK_NEEDS_WORKSPACE_WRITE", field: "network",
      message: `network: true needs sandbox_mode: workspace-write (this agent runs ${sandbox}${settings.sandbox_mode ? "" : ", the default"}, which never has network); set the sandbox, or remove network`,
    }];
  }
  if (settings.network === false && sandbox === "danger-full-access") {
    return [{
      level: "warning", code: "NETWORK_UNSANDBOXED", field: "network",
      message: "network: false cannot hold with sandbox_mode: danger-full-access (no sandbox at all, so its commands reach the network); use workspace-write to keep them off it",
    }];
  }
  return [];
}
