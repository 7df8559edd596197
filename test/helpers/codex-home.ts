// A throwaway CODEX_HOME that points the real codex at a mock model on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codexBin } from "./paths.ts";
import { tomlString } from "./toml.ts";

export const MOCK_MODEL_SLUG = "mock-model";

export interface CodexHome {
  /** The CODEX_HOME directory (holds config.toml, the model catalog, sessions/). */
  dir: string;
  /** A minimal environment for spawning codex: PATH, HOME (a temp dir), CODEX_HOME. */
  env: Record<string, string>;
  /** Removes CODEX_HOME and HOME. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface CodexHomeOptions {
  /** The mock's base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  baseUrl: string;
  /** The provider's `env_key`: codex then sends `Authorization: Bearer $NAME` to the mock (and fails without it). */
  envKey?: string;
  /** TOML appended to config.toml verbatim, e.g. an `[mcp_servers.x]` table. */
  extraConfig?: string;
  /** Where to make it; default os.tmpdir(). A test that needs it out of a sandbox's reach puts it elsewhere. */
  parentDir?: string;
}

/** Absolute path of the pinned codex launcher in this checkout (`node_modules/.bin/codex`). */
export function codexBinPath(): string {
  return codexBin;
}

/**
 * One catalog entry for the mock model. Without it codex emits an `error` item
 * ("Model metadata for `mock-model` not found") at the start of every run. The fields are the ones
 * codex 0.169 refuses to parse the catalog without; `base_instructions` becomes the first developer message.
 */
function modelCatalog(): unknown {
  return {
    models: [
      {
        slug: MOCK_MODEL_SLUG,
        display_name: "Mock model (tests)",
        supported_reasoning_levels: [],
        shell_type: "shell_command",
        visibility: "list",
        supported_in_api: true,
        priority: 1,
        support_verbosity: false,
        truncation_policy: { mode: "tokens", limit: 10000 },
        experimental_supported_tools: [],
        base_instructions: "You are a coding agent under test, driven by a mock model.",
      },
    ],
  };
}

export async function makeCodexHome(opts: CodexHomeOptions): Promise<CodexHome> {
  const root = await mkdtemp(join(opts.parentDir ?? tmpdir(), "codex-home-"));
  const dir = join(root, "codex-home");
  const home = join(root, "home");
  await mkdir(dir);
  await mkdir(home);

  const catalogPath = join(dir, "model-catalog.json");
  await writeFile(catalogPath, JSON.stringify(modelCatalog(), null, 2));

  const config = [
    `model = ${tomlString(MOCK_MODEL_SLUG)}`,
    `model_provider = "mock"`,
    `model_catalog_json = ${tomlString(catalogPath)}`,
    ``,
    `[model_providers.mock]`,
    `name = "mock"`,
    `base_url = ${tomlString(opts.baseUrl)}`,
    `wire_api = "responses"`,
    `request_max_retries = 0`,
    `stream_max_retries = 0`,
    `supports_websockets = false`,
    ...(opts.envKey ? [`env_key = ${tomlString(opts.envKey)}`] : []),
    ``,
    `[features]`,
    // Stops the background git fetch of the plugins repository on every run.
    `plugins = false`,
    ``,
    opts.extraConfig ?? "",
    ``,
  ].join("\n");
  await writeFile(join(dir, "config.toml"), config);

  const env: Record<string, string> = {
    // The launcher is a Node script, so PATH must still find `node`.
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    CODEX_HOME: dir,
  };

  return {
    dir,
    env,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface CodexRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSONL (`--json`); lines that are not JSON are skipped. */
  events: any[];
}

/**
 * Runs the real codex once: writes `stdin` and closes it (exec reads stdin to EOF), collects the output.
 * `hangGuardMs` only stops a run that would otherwise hang the test suite; it is not a speed assertion.
 */
export function runCodex(opts: {
  args: string[];
  env: Record<string, string>;
  stdin?: string;
  cwd?: string;
  hangGuardMs?: number;
}): Promise<CodexRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(codexBinPath(), opts.args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      // Own process group: the launcher is a Node script with the native codex as its child,
      // so a hung run is stopped by killing the whole group.
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const guard = setTimeout(() => killGroup(child.pid), opts.hangGuardMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(guard);
      resolve({ exitCode, signal, stdout, stderr, events: parseJsonLines(stdout) });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export function parseJsonLines(text: string): any[] {
  const events: any[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // codex prints only JSON on stdout with --json; anything else is not an event.
    }
  }
  return events;
}
