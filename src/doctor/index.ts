/**
 * doctor's checks: is this machine ready to serve delegations? Finds codex, asks it for its version and help pages, and
 * checks the agents, roots and runs directory the server would use. Checks return data; `doctor` (commands/doctor.ts)
 * renders the report. Healthy: no check failed (warnings allowed).
 */
import { constants as fsConstants } from "node:fs";
import { access, mkdtemp, realpath, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { EMBEDDED_AGENTS } from "../agents/embedded.ts";
import { AgentsDirError, discoverAgents, loadRegistry } from "../agents/registry.ts";
import { validateReport } from "../agents/report.ts";
import { probeCodex } from "../codex/run.ts";
import { agentsDirsOf, ceilingsOf, codexHomeOf, type ServerOptions } from "../config.ts";
import { buildChildEnv, relativePathEntries } from "../policy/env.ts";
import { workDirExposure, workDirFor } from "../workspace/private-dir.ts";
import { codexSourceOf, findCodex, findGit, type CodexLocation } from "../codex/find.ts";
import { DISABLED_FEATURES } from "../codex/args.ts";
import type { AgentFileResult } from "../agents/schema.ts";
import { mcpAllowed } from "../policy/capabilities.ts";
import { rootsUnderTmp, TMP_ROOT_HINT } from "../policy/tmp-roots.ts";
import type { DoctorCheck } from "./check.ts";
import { disabledFeaturesProbe, featuresNotOff, HELP_REQUIREMENTS, missingFromHelp, parseCodexVersion } from "./codex-help.ts";
import { workspacesCheck } from "./workspaces.ts";
import { listMcpServers, type McpServerEntry, type ProbeProblem } from "../codex/mcp-servers.ts";
import { CODEX_MCP_DEFAULT_ENV, entriesRunningUs, entryOptions, lostVariables, toolTimeoutProblem } from "./codex-entry.ts";

/** What `codex mcp list --json` answered, asked once per doctor run with the environment the server gives codex. */
type McpListing = { servers: McpServerEntry[] } | ProbeProblem;

export interface DoctorReport {
  healthy: boolean;
  codex: { command: string; path: string | null; runnable: string | null; version: string | null; tested_versions: readonly string[] };
  /** The git every worktree command runs (absolute), or null when none was found. */
  git: { path: string | null };
  /** The private directory runs work in (private-dir.ts). */
  work_dir: string;
  checks: DoctorCheck[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The codex versions this release was tested with: CI runs the codex tests against each (the oldest supported one
 * in a second pass, see .ci/run). Keep the newest last; it is the one the hints recommend.
 */
export const TESTED_CODEX_VERSIONS: readonly string[] = ["0.169.0", "0.171.0"];
const TESTED_CODEX_VERSION = TESTED_CODEX_VERSIONS.at(-1)!;
/** "0.169.0 and 0.171.0", for messages. */
export const TESTED_CODEX_TEXT = TESTED_CODEX_VERSIONS.length > 1
  ? `${TESTED_CODEX_VERSIONS.slice(0, -1).join(", ")} and ${TESTED_CODEX_VERSION}`
  : TESTED_CODEX_VERSION;
/** Longest a `codex --version` / `--help` may take; a cold start of the large native binary can be slow. */
export const PROBE_TIMEOUT_MS = 30_000;

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0]?.slice(0, 300) ?? "";
}

function codexCheck(location: CodexLocation): DoctorCheck {
  if (location.problem) return { id: "codex", status: "FAIL", detail: location.problem.detail, hint: location.problem.hint };
  const via = location.source === "PATH" ? "found on PATH" : `from ${location.source}`;
  return { id: "codex", status: "PASS", detail: `${location.found} (${via})` };
}

async function codexProbeChecks(runnable: string, env: Record<string, string>, checks: DoctorCheck[]): Promise<string | null> {
  const probe = (args: string[]) => probeCodex(runnable, args, { timeoutMs: PROBE_TIMEOUT_MS, env });
  const describeFailure = (what: string, outcome: Awaited<ReturnType<typeof probe>>): string => {
    if (outcome.spawnError) return `${what} could not start (${outcome.spawnError})`;
    if (outcome.timedOut) return `${what} did not finish within ${PROBE_TIMEOUT_MS / 1000}s`;
    const said = firstLine(outcome.stderr) || firstLine(outcome.stdout);
    return `${what} exited with ${outcome.exitCode}${said ? `: ${said}` : ""}`;
  };

  const versionRun = await probe(["--version"]);
  const version = versionRun.exitCode === 0 ? parseCodexVersion(versionRun.stdout) : null;
  if (versionRun.exitCode !== 0 || version === null) {
    checks.push({
      id: "codex version",
      status: "FAIL",
      detail: versionRun.exitCode === 0 ? `codex --version printed "${firstLine(versionRun.stdout)}", not a codex version` : describeFailure("codex --version", versionRun),
      hint: `run ${runnable} --version yourself to see why; reinstall codex (npm install -g @openai/codex) or point --codex at a working codex`,
    });
    if (versionRun.spawnError || versionRun.timedOut) return null;
  } else {
    checks.push({
      id: "codex version",
      status: "PASS",
      detail: `codex-cli ${version} (this release was tested with ${TESTED_CODEX_TEXT}${TESTED_CODEX_VERSIONS.includes(version) ? "" : "; the option checks below tell whether this one fits"})`,
    });
  }

  const runs = await Promise.all(HELP_REQUIREMENTS.map((req) => probe(req.args)));
  HELP_REQUIREMENTS.forEach((req, i) => {
    const run = runs[i]!;
    const command = `codex ${req.args.join(" ")}`;
    if (run.exitCode !== 0) {
      checks.push({ id: req.id, status: "FAIL", detail: describeFailure(command, run), hint: `this codex cannot serve delegations (${req.why}); upgrade it: npm install -g @openai/codex@${TESTED_CODEX_VERSION}` });
      return;
    }
    const missing = missingFromHelp(run.stdout + run.stderr, req);
    checks.push(missing.length === 0
      ? { id: req.id, status: "PASS", detail: `${command} lists ${[...req.options, ...req.subcommands].join(", ")}` }
      : {
          id: req.id,
          status: "FAIL",
          detail: `${command} does not list ${missing.join(", ")}; ${req.why}`,
          hint: `upgrade codex to a version that has ${missing.join(", ")} (this release is tested with ${TESTED_CODEX_TEXT}): npm install -g @openai/codex@${TESTED_CODEX_VERSION}, or point --codex at one`,
        });
  });

  // Security: every sub-agent runs with these features off (src/codex/args.ts DISABLED_FEATURES: codex's own
  // multi-agent tools, plugins, apps, hooks, browser and computer use, …); a codex that does not accept one of these
  // names would refuse every run, and one that ignored them would hand the tools back.
  const featureArgs = disabledFeaturesProbe(DISABLED_FEATURES);
  const featureRun = await probe(featureArgs);
  const notOff = featureRun.exitCode === 0 ? featuresNotOff(featureRun.stdout, DISABLED_FEATURES) : [...DISABLED_FEATURES];
  checks.push(featureRun.exitCode === 0 && notOff.length === 0
    ? { id: "codex features", status: "PASS", detail: `codex features list shows ${DISABLED_FEATURES.join(", ")} off when each is passed as --disable, as every sub-agent runs` }
    : {
        id: "codex features",
        status: "FAIL",
        detail: featureRun.exitCode === 0
          ? `codex features list, with each of ${DISABLED_FEATURES.join(", ")} passed as --disable, does not show ${notOff.join(", ")} as off; sub-agents would keep what they add`
          : `${describeFailure(`codex features list, with the ${DISABLED_FEATURES.length} features sub-agents run without each passed as --disable,`, featureRun)}; every delegation passes these --disable flags, so none could run`,
        hint: `this release is tested with codex ${TESTED_CODEX_VERSION}, which knows these features: npm install -g @openai/codex@${TESTED_CODEX_VERSION}, or point --codex at one`,
      });
  return version;
}

async function agentsChecks(options: ServerOptions, env: Env, cwd: string, programDir: string | undefined, checks: DoctorCheck[]): Promise<readonly AgentFileResult[]> {
  let location;
  try {
    location = await discoverAgents({ ...agentsDirsOf(options), cwd, programDir });
  } catch (error) {
    if (!(error instanceof AgentsDirError)) throw error;
    checks.push({ id: "agents", status: "FAIL", detail: error.message, hint: error.hint ?? "create the directory with your <name>.md agent files, or fix --agents-dir / CODEX_SUBAGENTS_DIR (unset, the embedded starter agents are used)" });
    return [];
  }
  const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
  const report = validateReport(location.dir, registry.files);
  const where = `${location.dir ?? "the embedded starter set"} (${location.foundBy})`;
  const validateCommand = `codex-subagents validate${location.dir ? ` ${location.dir}` : ""}`;
  const s = report.summary;
  const otherWarnings = report.files.filter((f) => f.issues.some((i) => i.level === "warning" && i.code !== "PROFILE_NOT_FOUND"));
  if (s.files === 0) {
    checks.push({ id: "agents", status: "WARN", detail: `no agent files in ${where}`, hint: "add <name>.md agent files there, or remove the directory to use the embedded starter agents" });
  } else if (s.with_errors > 0) {
    const bad = report.files.filter((f) => !f.ok).map((f) => f.file);
    checks.push({ id: "agents", status: "FAIL", detail: `${s.with_errors} of ${s.files} agent file(s) in ${where} have errors and cannot be delegated to: ${bad.join(", ")}`, hint: `run ${validateCommand} to see each problem and how to fix it` });
  } else if (otherWarnings.length > 0) {
    checks.push({ id: "agents", status: "WARN", detail: `${s.files} agent file(s) from ${where}, all usable; warnings in ${otherWarnings.map((f) => f.file).join(", ")}`, hint: `run ${validateCommand} to see the warnings` });
  } else {
    checks.push({ id: "agents", status: "PASS", detail: `${s.files} agent(s) from ${where}: ${registry.agents().map((a) => a.name).join(", ")}` });
  }

  const profiles = registry.files.filter((f) => f.settings.profile);
  const missing = profiles.filter((f) => f.issues.some((i) => i.code === "PROFILE_NOT_FOUND"));
  if (profiles.length === 0) {
    checks.push({ id: "profiles", status: "PASS", detail: "no agent names a codex profile" });
  } else if (missing.length === 0) {
    checks.push({ id: "profiles", status: "PASS", detail: `every profile named has its file in ${codexHomeOf(env)}: ${[...new Set(profiles.map((f) => f.settings.profile))].join(", ")}` });
  } else {
    const list = missing.map((f) => `"${f.settings.profile}" (${f.file})`).join(", ");
    const files = [...new Set(missing.map((f) => path.join(codexHomeOf(env), `${f.settings.profile}.config.toml`)))];
    checks.push({
      id: "profiles",
      status: "WARN",
      detail: `profile ${list} has no file; codex ignores a missing profile silently, so those agents run with the base config`,
      hint: `create ${files.join(", ")} (codex layers it over config.toml), or remove the profile key from the agent`,
    });
  }
  return registry.files;
}

/**
 * The MCP servers the user's codex config declares here (codex is asked, as before every run), which agents are granted
 * each, and whether --allow-mcp lets them have it. A codex that cannot list its servers fails: every delegation would
 * be refused, since a server that cannot be named cannot be switched off.
 */
function mcpServersCheck(listed: McpListing, files: readonly AgentFileResult[], options: ServerOptions): DoctorCheck {
  if ("problem" in listed) {
    return { id: "mcp servers", status: "FAIL", detail: `${listed.problem}; every delegation would be refused, because a server codex cannot name cannot be switched off`, hint: listed.hint ?? "run codex mcp list --json to see the error, and fix your codex config.toml" };
  }
  const ceilings = ceilingsOf(options);
  const allowed = (name: string) => mcpAllowed(name, ceilings);
  const grantedTo = (name: string) => files.filter((f) => Object.hasOwn(f.settings.mcp_servers ?? {}, name)).map((f) => f.name);
  const declared = listed.servers.map((s) => s.name);
  const parts = listed.servers.map((server) => {
    const agents = grantedTo(server.name);
    const off = server.enabled ? "" : ", switched off in your config";
    const allow = allowed(server.name) ? "allowed by --allow-mcp" : "not allowed (--allow-mcp)";
    return `${server.name} (${agents.length ? `granted to ${agents.join(", ")}` : "granted to no agent"}; ${allow}${off})`;
  });
  const problems: string[] = [];
  for (const file of files) {
    for (const name of Object.keys(file.settings.mcp_servers ?? {})) {
      if (!declared.includes(name)) problems.push(`${file.name} is granted "${name}", which your codex config does not declare here`);
      else if (!allowed(name)) problems.push(`${file.name} is granted "${name}", which --allow-mcp does not allow (${file.format === "codex-subagents" ? "it is refused" : "it runs without it"})`);
    }
  }
  const summary = declared.length === 0
    ? "your codex config declares no MCP servers here; sub-agents get none"
    : `your codex config declares ${parts.join(", ")}; every server not granted is switched off for each sub-agent`;
  if (problems.length === 0) return { id: "mcp servers", status: "PASS", detail: summary };
  return {
    id: "mcp servers", status: "WARN", detail: `${summary}. ${problems.join("; ")}`,
    hint: "add the server to your codex config (codex mcp add NAME -- COMMAND), start the server with --allow-mcp NAME, or remove the grant from the agent",
  };
}

async function rootsCheck(options: ServerOptions, cwd: string): Promise<DoctorCheck> {
  const problems: string[] = [];
  const good: string[] = [];
  for (const root of options.roots) {
    const absolute = path.resolve(cwd, root);
    try {
      const real = await realpath(absolute);
      if ((await stat(real)).isDirectory()) good.push(real === absolute ? real : `${absolute} (→ ${real})`);
      else problems.push(`"${root}" is not a directory`);
    } catch {
      problems.push(`"${root}" does not exist`);
    }
  }
  if (problems.length > 0) {
    return { id: "roots", status: "FAIL", detail: `${problems.join("; ")}; the server refuses to start with a missing root`, hint: "create the directory, or fix --root / CODEX_SUBAGENTS_ROOTS (a path list) so it names existing directories" };
  }
  const implicit = options.sources.roots === "default";
  return { id: "roots", status: "PASS", detail: `delegate may work in ${good.join(", ")}${implicit ? " (the working directory; pass --root to choose)" : ""}` };
}

async function runsDirCheck(options: ServerOptions): Promise<DoctorCheck> {
  const dir = options.runsDir;
  if (options.keepRuns === 0) return { id: "runs dir", status: "PASS", detail: `run records are off (--keep-runs 0); nothing is written to ${dir}` };
  const info = await stat(dir).catch(() => null);
  if (info && !info.isDirectory()) {
    return { id: "runs dir", status: "FAIL", detail: `${dir} is not a directory`, hint: "remove it, or pass --runs-dir (CODEX_SUBAGENTS_RUNS_DIR) with a directory the server may write" };
  }
  if (!info) {
    let ancestor = path.dirname(dir);
    while (!(await stat(ancestor).then((s) => s.isDirectory(), () => false)) && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
    const writable = await access(ancestor, fsConstants.W_OK).then(() => true, () => false);
    return writable
      ? { id: "runs dir", status: "PASS", detail: `${dir} does not exist yet; it is created (mode 700) at the first delegation` }
      : { id: "runs dir", status: "FAIL", detail: `${dir} does not exist and cannot be created: ${ancestor} is not writable`, hint: `create it (mkdir -p -m 700 ${dir}), or pass --runs-dir with a writable directory` };
  }
  try {
    // A real write, not access(): permissions, read-only mounts and ACLs all show up.
    await rmdir(await mkdtemp(path.join(dir, ".doctor-")));
  } catch (error) {
    return { id: "runs dir", status: "FAIL", detail: `${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, hint: `fix its permissions (chmod 700 ${dir}), or pass --runs-dir with a writable directory` };
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    return { id: "runs dir", status: "WARN", detail: `${dir} is writable but other users may read it (mode ${mode}); run records hold tasks, code and command output`, hint: `chmod 700 ${dir}` };
  }
  return { id: "runs dir", status: "PASS", detail: `${dir} is writable; the last ${options.keepRuns} run(s) are kept` };
}

/** The variables a Codex entry's server would miss, as a check (`where`: which server this is about). */
function environmentCheck(lost: readonly string[], where: string, id: string): DoctorCheck {
  if (lost.length === 0) return { id, status: "PASS", detail: `${where} gets every variable set here that it needs` };
  return {
    id,
    status: "WARN",
    detail: `${lost.join(", ")} ${lost.length === 1 ? "is" : "are"} set here, but ${where} would not see ${lost.length === 1 ? "it" : "them"}: Codex starts MCP servers with only ${CODEX_MCP_DEFAULT_ENV.filter((n) => !n.startsWith("__")).join(", ")} and the entry's env and env_vars (so sub-agents would use ${lost.includes("CODEX_HOME") ? "~/.codex" : "the defaults"})`,
    hint: `add to its [mcp_servers.<name>] table in config.toml: env_vars = [${lost.map((n) => JSON.stringify(n)).join(", ")}] (with the names it lists already)`,
  };
}

/**
 * The server Codex would start for each entry of its config that runs codex-subagents (codex-entry.ts): its args,
 * roots, environment and tool timeout. With no such entry, the environment this shell would lose is warned about.
 */
async function codexEntryChecks(listed: McpListing | null, options: ServerOptions, env: Env, cwd: string, self: string | undefined): Promise<DoctorCheck[]> {
  const shellLost = () => environmentCheck(lostVariables(Object.fromEntries(CODEX_MCP_DEFAULT_ENV.map((n) => [n, env[n]]).filter(([, v]) => v !== undefined)), options.passEnv, env), "a server Codex starts (if it starts this one)", "mcp environment");
  if (!listed) return [shellLost()];
  if ("problem" in listed) {
    return [{ id: "codex entry", status: "WARN", detail: `could not ask codex which MCP servers it starts: ${listed.problem}`, hint: listed.hint ?? "run codex mcp list yourself to see why" }, shellLost()];
  }
  const served = await entriesRunningUs(listed.servers, self);
  if (served.length === 0) {
    return [{ id: "codex entry", status: "PASS", detail: `no entry in Codex's config starts codex-subagents (codex mcp list knows ${listed.servers.length} server(s)); register it as README.md shows if Codex should use it` }, shellLost()];
  }
  const checks: DoctorCheck[] = [];
  for (const one of served) {
    const name = one.entry.name;
    const id = `codex entry ${name}`;
    const where = `the server [mcp_servers.${name}] starts`;
    checks.push(one.thisExecutable
      ? { id, status: "PASS", detail: `[mcp_servers.${name}] starts this executable (${one.program})${one.entry.enabled ? "" : "; it is disabled (enabled = false)"}` }
      : { id, status: "WARN", detail: `[mcp_servers.${name}] starts ${one.program}, not this executable (${self ?? "run from source"}); the checks below are of that entry as configured`, hint: "point the entry's command at the executable you mean to run, or run doctor with that one" });
    const resolved = entryOptions(one, env, cwd);
    if ("problem" in resolved) {
      checks.push({ id: `${id} args`, status: "FAIL", detail: `[mcp_servers.${name}]: ${resolved.problem}`, hint: resolved.hint ?? "fix the entry's args or env (codex-subagents --help lists the options)" });
      continue;
    }
    const roots = await rootsCheck(resolved.options, resolved.cwd);
    checks.push({ ...roots, id: `${id} roots`, detail: `${where}: ${roots.detail}`, ...(roots.status === "FAIL" ? { hint: "create the directory, or fix CODEX_SUBAGENTS_ROOTS or --root in the entry's env or args" } : {}) });
    checks.push(environmentCheck(lostVariables(resolved.env, resolved.options.passEnv, env), where, `${id} environment`));
    const timeout = toolTimeoutProblem(one.entry, resolved.options.timeoutS);
    checks.push(timeout
      ? { id: `${id} timeout`, status: "WARN", detail: `[mcp_servers.${name}]: ${timeout}`, hint: `set tool_timeout_sec = ${resolved.options.timeoutS + 60} in the entry (a little above --timeout), or have the model delegate with background: true` }
      : { id: `${id} timeout`, status: "PASS", detail: `tool_timeout_sec ${one.entry.tool_timeout_sec} s is above the server's --timeout of ${resolved.options.timeoutS} s` });
  }
  return checks;
}

async function credentialsCheck(env: Env): Promise<DoctorCheck> {
  const authFile = path.join(codexHomeOf(env), "auth.json");
  if (env.OPENAI_API_KEY) return { id: "credentials", status: "PASS", detail: "OPENAI_API_KEY is set" };
  if (await stat(authFile).then((s) => s.isFile(), () => false)) return { id: "credentials", status: "PASS", detail: `codex login credentials in ${authFile}` };
  return {
    id: "credentials",
    status: "WARN",
    detail: `no ${authFile} and no OPENAI_API_KEY: sub-agents cannot reach OpenAI's models`,
    hint: "run codex login (with the CODEX_HOME the server will get), or give the server OPENAI_API_KEY; ignore this if your config.toml uses a model provider that needs no key",
  };
}

/** git, and the PATH entries the server ignores when it looks programs up. */
function programChecks(git: string | null, env: Env): DoctorCheck[] {
  const checks: DoctorCheck[] = [git
    ? { id: "git", status: "PASS", detail: `${git} (every git command of isolation "worktree" runs this file)` }
    : { id: "git", status: "WARN", detail: 'no git in an absolute PATH directory: isolation "worktree" is refused', hint: "install git (e.g. apt install git) and restart the server; isolation none and mirror work without it" }];
  const relative = relativePathEntries(env.PATH ?? "");
  if (relative.length > 0) {
    checks.push({
      id: "PATH",
      status: "WARN",
      detail: `PATH has relative entries (${relative.map((d) => JSON.stringify(d)).join(", ")}); the server ignores them when it looks for codex and git, and removes them from the PATH codex gets`,
      hint: "remove relative entries from PATH: they run whatever program the current directory holds",
    });
  }
  return checks;
}

/** Where runs work, and whether a sandbox could reach it (then it is not private). */
async function workDirCheck(workDir: string, options: ServerOptions, env: Env, cwd: string): Promise<DoctorCheck> {
  const exposure = await workDirExposure(workDir, { tmpDir: env.TMPDIR, roots: options.roots.map((root) => path.resolve(cwd, root)) });
  if (exposure) {
    return { id: "work dir", status: "WARN", detail: `${workDir} holds every run's files and workspaces, but ${exposure}, so a sub-agent could tamper with another run's files`, hint: "set CODEX_HOME to a directory outside /tmp, $TMPDIR and every --root (the default ~/.codex is)" };
  }
  return { id: "work dir", status: "PASS", detail: `${workDir} (mode 700, made at the first delegation) holds each run's files, worktree or mirror while it runs` };
}

export async function runDoctor(options: ServerOptions, env: Env, cwd: string, programDir?: string, self?: string): Promise<DoctorReport> {
  const workDir = workDirFor(codexHomeOf(env));
  const checks: DoctorCheck[] = [];
  const location = await findCodex({ command: options.codex, source: codexSourceOf(options), env, cwd });
  checks.push(codexCheck(location));
  let version: string | null = null;
  // Probed with the environment the server would give codex, so PATH (for the node launcher) and CODEX_HOME match.
  const codexEnv = buildChildEnv(env, options.passEnv, 1);
  if (location.runnable) version = await codexProbeChecks(location.runnable, codexEnv, checks);
  const files = await agentsChecks(options, env, cwd, programDir, checks);
  // One listing serves both the grants check and the check of the entry that starts this server.
  const listed = location.runnable ? await listMcpServers({ codexPath: location.runnable, globalArgs: [], cwd, env: codexEnv }) : null;
  if (listed) checks.push(mcpServersCheck(listed, files, options));
  checks.push(await rootsCheck(options, cwd));
  checks.push(await runsDirCheck(options));
  const git = await findGit(env);
  checks.push(...programChecks(git, env));
  checks.push(await workDirCheck(workDir, options, env, cwd));
  // Security: a root under /tmp or $TMPDIR, which every sandbox may write whatever its cwd (policy/tmp-roots.ts).
  for (const warning of await rootsUnderTmp(await Promise.all(options.roots.map((r) => realpath(path.resolve(cwd, r)).catch(() => path.resolve(cwd, r)))), env.TMPDIR)) checks.push({ id: "root", status: "WARN", detail: warning, hint: TMP_ROOT_HINT });
  checks.push(...await codexEntryChecks(listed, options, env, cwd, self));
  checks.push(await credentialsCheck(env));
  checks.push(await workspacesCheck(workDir));
  return {
    healthy: !checks.some((c) => c.status === "FAIL"),
    codex: { command: options.codex, path: location.found, runnable: location.runnable, version, tested_versions: TESTED_CODEX_VERSIONS },
    git: { path: git },
    work_dir: workDir,
    checks,
  };
}
