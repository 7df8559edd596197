import path from "node:path";

/**
 * Variables codex may receive from the server's own environment. Everything else is dropped, every `GIT_*`
 * included. Security: two are then set on purpose, never taken from the server's environment: GIT_DIR and
 * GIT_WORK_TREE, naming the one repository codex's own (unsandboxed) git may see, chosen by the workspace
 * (workspace/codex-git.ts, `Workspace.codexEnv`; delegation/run.ts adds them on top of buildChildEnv's result).
 */
export const ENV_ALLOW_LIST = [
  "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TMPDIR", "TEMP", "TMP",
  "CODEX_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", "SYSTEMROOT",
] as const;

export const DEPTH_VARIABLE = "CODEX_SUBAGENTS_DEPTH";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * Security: build codex's environment from an allow-list. A canary or credential in the server's environment
 * never reaches the child unless named with --pass-env.
 */
export function buildChildEnv(
  parent: Readonly<Record<string, string | undefined>>,
  passEnv: readonly string[],
  childDepth: number,
  caseInsensitive = process.platform === "win32",
): Record<string, string> {
  const env: Record<string, string> = {};
  const fold = (n: string) => (caseInsensitive ? n.toUpperCase() : n);
  const allowed = new Set<string>([...ENV_ALLOW_LIST, ...passEnv].map(fold));
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (allowed.has(fold(name)) || fold(name).startsWith("LC_")) env[name] = value;
  }
  // Security: codex (an npm launcher run by `env node`) and the commands it starts look programs up on PATH; a
  // relative entry would find them in whatever directory they run in. Only absolute entries are passed on.
  for (const name of Object.keys(env)) {
    if (fold(name) === "PATH") env[name] = absolutePathEntries(env[name]!, caseInsensitive).join(caseInsensitive ? ";" : ":");
  }
  env[DEPTH_VARIABLE] = String(childDepth);
  return env;
}

/**
 * The absolute directories of a PATH value, in order. Security: a relative entry (`bin`, `.`, or an empty entry, which
 * means `.`) is resolved against whatever directory a program runs in, often a repository someone else wrote, so its
 * `git` or `codex` would run outside every sandbox. Such entries are dropped, never resolved.
 */
export function absolutePathEntries(value: string, windows = process.platform === "win32"): string[] {
  const isAbsolute = windows ? path.win32.isAbsolute : path.posix.isAbsolute;
  return value.split(windows ? ";" : ":").filter((dir) => dir !== "" && isAbsolute(dir));
}

/** The PATH entries `absolutePathEntries` drops (an empty entry is shown as ""), for `doctor`. */
export function relativePathEntries(value: string, windows = process.platform === "win32"): string[] {
  const isAbsolute = windows ? path.win32.isAbsolute : path.posix.isAbsolute;
  return value.split(windows ? ";" : ":").filter((dir) => dir === "" || !isAbsolute(dir));
}

/** Values the redactor must mask: the API key and every pass-through variable. */
export function secretValues(parent: Readonly<Record<string, string | undefined>>, passEnv: readonly string[]): string[] {
  const names = ["OPENAI_API_KEY", ...passEnv];
  return names.map((n) => parent[n]).filter((v): v is string => typeof v === "string" && v.length > 0);
}
