/**
 * Pure: a Codex role file's table → this server's settings and persona, key by key; its grants are read by
 * role-grants.ts.
 */
import { refusedByCodex, settingOptions, settingSchemas, type AgentSettings } from "./schema.ts";
import { mapNameAndDescription, quote, warn, type MappedAgent } from "./interop.ts";
import { ROLE_GRANT_KEYS, roleGrants } from "./role-grants.ts";
import { unknownKeyIssue } from "./strict.ts";

/** Role-file keys that limit what the agent may do, likewise. */
const ROLE_LIMITING_KEYS = ["sandbox_mode", "approval_policy", "mcp_servers"];

/** Codex role keys that map one to one onto our settings. */
const CODEX_ROLE_KEYS: Record<string, keyof AgentSettings> = {
  model: "model",
  model_reasoning_effort: "reasoning_effort",
  sandbox_mode: "sandbox_mode",
  approval_policy: "approval_policy",
};

/**
 * A Codex role file's table → our settings and persona. Only the role keys reach codex; any other Codex config key
 * is refused passage with a warning naming it.
 * Security: a role file must not be a way to set a shell environment policy, a model provider or any other
 * configuration behind the reviewer's back; only the four role keys below are passed, each as its own flag, and its
 * grants (roleGrants) become grants of this server's own kind, capped by the server's ceilings.
 */
export function mapCodexRole(raw: Record<string, unknown>): MappedAgent {
  const out = mapNameAndDescription(raw);
  const { settings, issues } = out;
  if (typeof raw.developer_instructions === "string") out.persona = raw.developer_instructions;
  else if (raw.developer_instructions !== undefined) issues.push({ level: "error", code: "INVALID_VALUE", field: "developer_instructions", message: "developer_instructions must be a string (the role's instructions)" });
  else issues.push({ level: "error", code: "EMPTY_PERSONA", field: "developer_instructions", message: "a role file needs developer_instructions: the instructions the sub-agent follows" });

  if (raw.nickname_candidates !== undefined) {
    if (!Array.isArray(raw.nickname_candidates) || !raw.nickname_candidates.every((n) => typeof n === "string")) {
      issues.push({ level: "error", code: "INVALID_VALUE", field: "nickname_candidates", message: "nickname_candidates must be a list of strings" });
    } else {
      issues.push(warn("CODEX_NICKNAMES", "nickname_candidates", "nickname_candidates are display names in Codex's own UI; they are not used here"));
    }
  }
  for (const [key, target] of Object.entries(CODEX_ROLE_KEYS)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (key === "model_reasoning_effort" && value === "none") {
      issues.push(warn("CODEX_VALUE_NOT_CARRIED", key, 'model_reasoning_effort "none" is not passed (this server knows minimal, low, medium, high, xhigh); the Codex default applies'));
      continue;
    }
    const parsed = settingSchemas[target].safeParse(value);
    const refused = parsed.success ? refusedByCodex(target, parsed.data) : null;
    if (refused) issues.push({ ...refused, field: key });
    else if (parsed.success) (settings as Record<string, unknown>)[target] = parsed.data;
    else {
      const options = settingOptions(target);
      issues.push({ level: "error", code: "INVALID_VALUE", field: key, message: `${key} ${quote(value)} is not valid${options ? `; use one of: ${options.join(", ")}` : ""}` });
    }
  }
  if (raw.sandbox_mode === undefined) {
    settings.sandbox_mode = "read-only";
    issues.push(warn("CODEX_SANDBOX_DEFAULT", "sandbox_mode", "no sandbox_mode: the role runs read-only here (in Codex a role without one inherits its parent's sandbox); set sandbox_mode to change it"));
    out.sandboxFrom = "no sandbox_mode (read-only by default)";
  } else if (settings.sandbox_mode !== undefined) {
    out.sandboxFrom = `sandbox_mode = "${settings.sandbox_mode}"`;
  }
  Object.assign(settings, roleGrants(raw, settings.sandbox_mode ?? "read-only", issues));
  const handled = ["name", "description", "developer_instructions", "nickname_candidates", ...Object.keys(CODEX_ROLE_KEYS), ...ROLE_GRANT_KEYS];
  for (const key of Object.keys(raw)) {
    if (handled.includes(key)) continue;
    const issue = unknownKeyIssue(key, handled, ROLE_LIMITING_KEYS, {
      code: "CODEX_KEY_NOT_PASSED", ignored: `"${key}" is not passed to codex`,
      known: `a role file may set only ${[...Object.keys(CODEX_ROLE_KEYS), ...ROLE_GRANT_KEYS].join(", ")} (it must not be a way to change shell policy, providers or other configuration unseen)`,
    });
    if (issue) issues.push(issue);
  }
  return out;
}
