/**
 * Discovery and loading: the only reader of agent files.
 */
import { constants as fsConstants } from "node:fs";
import { lstat, open, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { NotFoundError } from "../errors.ts";
import type { AgentsPlace } from "../policy/agents-in-reach.ts";
import { isWithin, realPathSoFar } from "../policy/roots.ts";
import { finishAgent, parseCodexRoleAgent, parseJsonAgentFields, parseMarkdownAgent } from "./parse.ts";
import { EMBEDDED_PREFIX, MAX_AGENT_FILE_BYTES, MAX_PERSONA_BYTES, type Agent, type AgentFileResult, type AgentIssue } from "./schema.ts";

/** An agents directory that was named but does not exist (or is gone): exit 2. */
export class AgentsDirError extends NotFoundError {
  override name = "AgentsDirError";
}

export interface AgentsLocation {
  /** The directory agents are read from; null for the embedded starters. */
  dir: string | null;
  source: "directory" | "embedded";
  /** How it was found, for `list` and `doctor`: "--agents-dir", "CODEX_SUBAGENTS_DIR", "./agents", … */
  foundBy: string;
  /**
   * The places discovery looked at before the one in use, in order (absolute). An agents directory created at one of
   * them would be loaded instead at the next start, so they are within a writer's reach as much as `dir` is
   * (policy/agents-in-reach.ts). None for a directory named by --agents-dir or CODEX_SUBAGENTS_DIR.
   */
  outranking?: ReadonlyArray<{ dir: string; foundBy: string }>;
  /**
   * The embedded starter agents are the last layer below this directory: each one its directory has no file of the
   * same name for is served too. True for a directory found by discovery (a repository's `.claude/agents` must not
   * hide `review`); false for one named with --agents-dir or CODEX_SUBAGENTS_DIR, which is exactly the set served.
   */
  starters?: boolean;
}

export interface EmbeddedAgentFile {
  file: string;
  text: string;
}

export interface Registry {
  location: AgentsLocation;
  files: AgentFileResult[];
  get(name: string): AgentFileResult | undefined;
  agents(): Agent[];
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Discovery, first hit wins: `--agents-dir`, `CODEX_SUBAGENTS_DIR`, `./agents`, `./.codex-subagents/agents`, `agents/`
 * beside the executable, `./.codex/agents`, `./.claude/agents`, then the embedded starter agents alone. A directory
 * found by discovery keeps the starters below it (see AgentsLocation.starters); one named explicitly (flag or
 * environment) is the whole set, and one that does not exist is an error, never a silent fallback to other agents.
 */
export async function discoverAgents(opts: {
  flagDir?: string;
  envDir?: string;
  cwd: string;
  /** Directory of the executable (or bundle); omitted when running from source. */
  programDir?: string;
}): Promise<AgentsLocation> {
  const explicit: Array<[string | undefined, string]> = [[opts.flagDir, "--agents-dir"], [opts.envDir, "CODEX_SUBAGENTS_DIR"]];
  for (const [dir, foundBy] of explicit) {
    if (dir === undefined || dir === "") continue;
    const absolute = path.resolve(opts.cwd, dir);
    if (!(await isDirectory(absolute))) {
      throw new AgentsDirError(`agents directory "${dir}" (from ${foundBy}) does not exist or is not a directory`, { hint: `create it, or fix ${foundBy}` });
    }
    return { dir: await realpath(absolute), source: "directory", foundBy, starters: false };
  }
  const candidates: Array<[string, string]> = [
    [path.join(opts.cwd, "agents"), "./agents"],
    [path.join(opts.cwd, ".codex-subagents", "agents"), "./.codex-subagents/agents"],
  ];
  if (opts.programDir) candidates.push([path.join(opts.programDir, "agents"), "agents/ beside the executable"]);
  // Where Codex role files and Claude Code agents already live; after our own places, so those keep priority.
  candidates.push([path.join(opts.cwd, ".codex", "agents"), "./.codex/agents"], [path.join(opts.cwd, ".claude", "agents"), "./.claude/agents"]);
  const cwdReal = await realpath(opts.cwd).catch(() => path.resolve(opts.cwd));
  const outranking: Array<{ dir: string; foundBy: string }> = [];
  for (const [dir, foundBy] of candidates) {
    if (!(await isDirectory(dir))) {
      outranking.push({ dir: path.resolve(dir), foundBy });
      continue;
    }
    const real = await realpath(dir);
    // Security: a directory found implicitly is trusted because it is the user's; a repository can ship `agents` as a
    // symlink to a place a sub-agent can write (/tmp), and the agents are read again at every call. Beside the
    // executable is the installer's choice, so only the working-directory candidates are held to cwd.
    if (foundBy !== "agents/ beside the executable" && !isWithin(real, cwdReal)) {
      throw new AgentsDirError(`agents directory ${foundBy} is a symlink to "${real}", outside the working directory "${cwdReal}"; an implicitly found agents directory must be inside it`, { hint: `pass --agents-dir "${real}" if you trust it, or remove the link` });
    }
    return { dir: real, source: "directory", foundBy, outranking, starters: true };
  }
  return { dir: null, source: "embedded", foundBy: "embedded starter agents", outranking, starters: true };
}

/**
 * The agents directory in use and every place that outranks it, each resolved as far as it exists (a link on the way
 * is followed now, at the call, not only at start-up), for agentsDirInReach.
 */
export async function agentsPlaces(location: AgentsLocation): Promise<AgentsPlace[]> {
  const places: AgentsPlace[] = [];
  if (location.dir !== null) places.push({ dir: location.dir, what: "the agents directory in use", inUse: true });
  for (const { dir, foundBy } of location.outranking ?? []) {
    const what = `${foundBy}, found before ${location.source === "embedded" ? "the embedded starter agents" : location.foundBy}`;
    places.push({ dir: await realPathSoFar(dir), what, inUse: false });
  }
  return places;
}

const SKIPPED_FILES = /^(readme|license|changelog)(\.[a-z]+)?$/i;

/** Read at most `limit` bytes; a file that is larger is reported, never read whole. */
async function readBounded(file: string, limit: number): Promise<{ text: string } | { tooLarge: number }> {
  // Security: O_NONBLOCK so a FIFO planted in the agents dir cannot block the server; we checked isFile() anyway.
  const handle = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const size = (await handle.stat()).size;
    if (size > limit) return { tooLarge: size };
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return { text: buffer.subarray(0, bytesRead).toString("utf8") };
  } finally {
    await handle.close();
  }
}

/** Resolve a path inside the agents dir; refuse anything (including via symlinks) that leaves it. */
async function resolveInside(dirReal: string, relative: string): Promise<{ path: string } | { error: string }> {
  if (relative.includes("\0")) return { error: "contains a NUL byte" };
  if (path.isAbsolute(relative)) return { error: "is absolute; give a path relative to the agents directory" };
  const joined = path.resolve(dirReal, relative);
  if (!isWithin(joined, dirReal)) return { error: "leaves the agents directory" };
  let real: string;
  try {
    real = await realpath(joined);
  } catch {
    return { error: "does not exist" };
  }
  if (!isWithin(real, dirReal)) return { error: "is a link that points outside the agents directory" };
  if (!(await stat(real)).isFile()) return { error: "is not a regular file" };
  return { path: real };
}

/** A directory Claude Code reads agents from (`.claude/agents`): its `.md` files are Claude Code agents by default. */
export function isClaudeAgentsDir(dir: string): boolean {
  return path.basename(dir) === "agents" && path.basename(path.dirname(dir)) === ".claude";
}

async function loadFile(dirReal: string, entry: string, inClaudeDir: boolean): Promise<AgentFileResult & { text?: string }> {
  const ext = path.extname(entry).toLowerCase();
  const name = entry.slice(0, -ext.length);
  const format = ext === ".toml" ? "codex-role" : ext === ".md" && inClaudeDir ? "claude-code" : "codex-subagents";
  const fail = (code: string, message: string): AgentFileResult => finishAgent(name, entry, {}, undefined, [{ level: "error", code, message }], { format });
  const inside = await resolveInside(dirReal, entry);
  if ("error" in inside) return fail("UNSAFE_FILE", `agent file "${entry}" ${inside.error}; agent files must be regular files inside the agents directory`);
  const read = await readBounded(inside.path, MAX_AGENT_FILE_BYTES);
  if ("tooLarge" in read) return fail("FILE_TOO_LARGE", `the file is ${read.tooLarge} bytes; an agent file may be at most ${MAX_AGENT_FILE_BYTES} (the persona is limited to 64 KiB)`);
  if (ext === ".md") return { ...parseMarkdownAgent(name, entry, read.text, { inClaudeDir }), text: read.text };
  if (ext === ".toml") return { ...parseCodexRoleAgent(name, entry, read.text), text: read.text };
  const fields = parseJsonAgentFields(read.text);
  if (!fields.usable) return finishAgent(name, entry, {}, undefined, fields.issues);
  let persona = fields.persona;
  if (fields.personaFile !== undefined) {
    const target = await resolveInside(dirReal, fields.personaFile);
    if ("error" in target) {
      fields.issues.push({ level: "error", code: "PERSONA_FILE", field: "personaFile", message: `personaFile "${fields.personaFile}" ${target.error}; it must name a file inside the agents directory` });
    } else {
      const personaRead = await readBounded(target.path, MAX_PERSONA_BYTES);
      if ("tooLarge" in personaRead) {
        fields.issues.push({ level: "error", code: "PERSONA_TOO_LARGE", field: "personaFile", message: `personaFile "${fields.personaFile}" is ${personaRead.tooLarge} bytes; the limit is ${MAX_PERSONA_BYTES} (64 KiB)` });
      } else {
        persona = personaRead.text;
      }
    }
  }
  return { ...finishAgent(name, entry, fields.settings, persona, fields.issues), text: read.text };
}

export const AGENT_FILE_PATTERN = /\.(md|json|toml)$/i;

/** One loaded file, with the text it was read from (for `convert`, which copies files already in our format). */
export type LoadedAgentFile = AgentFileResult & { text?: string };

/** Load every `*.md` / `*.json` / `*.toml` agent directly inside `dir` (not recursive), sorted by file name. */
export async function loadAgentsDir(dir: string): Promise<AgentFileResult[]> {
  return (await loadAgentsDirWithText(dir)).map(({ text: _text, ...result }) => result);
}

export async function loadAgentsDirWithText(dir: string): Promise<LoadedAgentFile[]> {
  const dirReal = await realpath(dir);
  const inClaudeDir = isClaudeAgentsDir(path.resolve(dir)) || isClaudeAgentsDir(dirReal);
  const entries = (await readdir(dirReal)).filter((e) => AGENT_FILE_PATTERN.test(e) && !e.startsWith(".") && !SKIPPED_FILES.test(e)).sort();
  const results: LoadedAgentFile[] = [];
  for (const entry of entries) {
    // lstat first: a dangling link is reported by loadFile; a directory named x.md is skipped.
    const info = await lstat(path.join(dirReal, entry)).catch(() => null);
    if (info?.isDirectory()) continue;
    results.push(await loadFile(dirReal, entry, inClaudeDir));
  }
  markDuplicateNames(results);
  return results;
}

/** Read named agent files (each in its own directory), as `convert` does for SRC arguments that are files. */
export async function loadAgentFile(file: string): Promise<LoadedAgentFile> {
  const dir = path.dirname(path.resolve(file));
  const dirReal = await realpath(dir);
  return loadFile(dirReal, path.basename(file), isClaudeAgentsDir(dir) || isClaudeAgentsDir(dirReal));
}

/**
 * Two files for one name (review.md and review.json, or two files whose `name` keys agree): refuse all of them rather
 * than guess which was meant.
 */
export function markDuplicateNames(results: AgentFileResult[]): void {
  for (const result of results) {
    const all = results.filter((r) => r.name === result.name);
    if (all.length < 2) continue;
    result.issues.push({ level: "error", code: "DUPLICATE_NAME", message: `agent "${result.name}" is defined by ${all.map((r) => `"${r.file}"`).join(" and ")}; keep one of the files (or change one's name key)` });
    delete result.agent;
  }
}

export function loadEmbedded(files: readonly EmbeddedAgentFile[]): AgentFileResult[] {
  return files.map(({ file, text }) => parseMarkdownAgent(path.basename(file, ".md"), `${EMBEDDED_PREFIX}${file}`, text));
}

/** Warnings that depend on the machine, not the file: a profile codex would silently ignore. */
export async function addEnvironmentWarnings(results: AgentFileResult[], codexHome: string | undefined): Promise<void> {
  if (!codexHome) return;
  for (const result of results) {
    const profile = result.settings.profile;
    if (!profile) continue;
    const profileFile = path.join(codexHome, `${profile}.config.toml`);
    const exists = await stat(profileFile).then((s) => s.isFile(), () => false);
    if (!exists) {
      const issue: AgentIssue = {
        level: "warning", code: "PROFILE_NOT_FOUND", field: "profile",
        message: `profile "${profile}" has no file ${profileFile}; codex ignores a missing profile silently, so create that file or remove the key`,
      };
      result.issues.push(issue);
    }
  }
}

export async function loadRegistry(location: AgentsLocation, embedded: readonly EmbeddedAgentFile[], codexHome?: string): Promise<Registry> {
  const files = location.dir
    ? await loadAgentsDir(location.dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT" && error.code !== "ENOTDIR") throw error;
        throw new AgentsDirError(`the agents directory "${location.dir}" (found by ${location.foundBy} at start-up) no longer exists or is not a directory`, { hint: "restore it, or restart the server with --agents-dir naming one that exists" });
      })
    : loadEmbedded(embedded);
  if (location.dir && location.starters) {
    // The starters, last: a file of the same name in the directory overrides one (an unusable file included).
    const named = new Set(files.map((f) => f.name));
    files.push(...loadEmbedded(embedded).filter((starter) => !named.has(starter.name)));
  }
  await addEnvironmentWarnings(files, codexHome);
  const byName = new Map(files.map((f) => [f.name, f] as const));
  return {
    location,
    files,
    get: (name) => byName.get(name),
    agents: () => files.flatMap((f) => (f.agent ? [f.agent] : [])),
  };
}
