/**
 * Pure: what codex's `--help` pages must list for the argv this server builds (src/codex/args.ts) to work.
 */

export interface HelpRequirement {
  /** The check's name in doctor's output. */
  id: string;
  /** codex arguments that print this help page. */
  args: string[];
  /** Long options that must appear (each also stands for its short form). */
  options: string[];
  /** Subcommands that must appear in the page's command list. */
  subcommands: string[];
  /** Why the server needs them, for the failure message. */
  why: string;
}

/**
 * Profile, sandbox, model, directory and `-c` (persona as developer_instructions, approval, reasoning effort) go before
 * `exec`, as codex's global options, because `exec resume` takes no --cd, -s or -p of its own.
 */
export const HELP_REQUIREMENTS: readonly HelpRequirement[] = [
  {
    id: "codex options",
    args: ["--help"],
    options: ["--config", "--cd", "--sandbox", "--profile", "--model"],
    subcommands: ["exec"],
    why: "the server passes the agent's directory, sandbox, profile, model and persona (-c developer_instructions=…) as codex's global options",
  },
  {
    id: "codex exec options",
    args: ["exec", "--help"],
    options: ["--json", "--output-last-message", "--output-schema", "--skip-git-repo-check", "--config", "--ignore-rules"],
    subcommands: ["resume"],
    why: "every delegation runs codex exec --json --skip-git-repo-check --output-last-message FILE --ignore-rules [--output-schema FILE] -",
  },
  {
    id: "codex exec resume options",
    args: ["exec", "resume", "--help"],
    options: ["--json", "--output-last-message", "--output-schema", "--skip-git-repo-check", "--config", "--ignore-rules"],
    subcommands: [],
    why: "a delegate call with resume runs codex exec resume THREAD_ID with the same options",
  },
  {
    id: "codex mcp list options",
    args: ["mcp", "list", "--help"],
    options: ["--json"],
    subcommands: [],
    why: "before every run the server asks codex mcp list --json which MCP servers it would start, to switch off every one the agent was not granted",
  },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** True when a help page lists the option (as `--json`, `-o, --output-last-message <FILE>`, `--cd=<DIR>`, …). */
export function helpHasOption(help: string, option: string): boolean {
  return new RegExp(`(?:^|[\\s,\\[])${escapeRegExp(option)}(?=[\\s,=<\\]]|$)`, "m").test(help);
}

/** True when a help page's command list names the subcommand (an indented line starting with it). */
export function helpHasSubcommand(help: string, name: string): boolean {
  return new RegExp(`^\\s+${escapeRegExp(name)}(?:\\s|,|$)`, "m").test(help);
}

export function missingFromHelp(help: string, req: HelpRequirement): string[] {
  return [
    ...req.options.filter((o) => !helpHasOption(help, o)),
    ...req.subcommands.filter((s) => !helpHasSubcommand(help, s)).map((s) => `${s} (subcommand)`),
  ];
}

/** `codex-cli 0.169.0` → "0.169.0"; null when the output does not look like a codex version. */
export function parseCodexVersion(output: string): string | null {
  const match = /\bcodex(?:-cli)?\s+v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/i.exec(output);
  return match ? match[1]! : null;
}

/** `codex --disable A --disable B features list`: the probe that shows codex accepts the features we switch off. */
export function disabledFeaturesProbe(features: readonly string[]): string[] {
  return [...features.flatMap((f) => ["--disable", f]), "features", "list"];
}

/**
 * Features from `features` that `codex features list` does not show as off (`<name>  <stage>  false`). A codex that
 * does not know a name exits non-zero before printing the list, so this sees only a printed list.
 */
export function featuresNotOff(list: string, features: readonly string[]): string[] {
  return features.filter((name) => !new RegExp(`^${escapeRegExp(name)}\\s+.*\\sfalse\\s*$`, "m").test(list));
}
