/**
 * Every command block of README.md and docs/BACKGROUND.md that runs codex-subagents, run as a user types it
 * (test/cli/testdata/*.txt, a testscript each: test/cli/testscript.ts). Each script gets a fresh home outside /tmp
 * and $TMPDIR (as a user's is; a sandbox may write those), the built executable installed as the README says, and the
 * real pinned codex found on PATH, its ~/.codex pointing at a mock model on 127.0.0.1. No script passes --codex.
 * A coverage check fails when a doc block gains a command no script runs, so the docs cannot drift from the tests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { starterPersonaFirstLine } from "../helpers/agents.ts";
import { makeCodexHome } from "../helpers/codex-home.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";
import { markdownFences } from "../helpers/markdown.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, MockModelError, startMockModel, toolNames, type MockModel } from "../helpers/mock-model.ts";
import { codexBin, distBinary, repoRoot } from "../helpers/paths.ts";
import { TEST_GIT_ENV } from "../helpers/git.ts";
import { runProgram, runScript, ScriptError, type ScriptCommands, type ScriptState } from "./testscript.ts";

const TESTDATA = path.join(import.meta.dir, "testdata");
const SCRIPTS = readdirSync(TESTDATA).filter((f) => f.endsWith(".txt")).sort();

let mock: MockModel;
let modelConfig: { config: string; catalog: string };
let personas: { review: string; docs: string };
/** While true, the mock model fails every request (a job whose review cannot be produced). */
let modelDown = false;

beforeAll(async () => {
  personas = { review: await starterPersonaFirstLine("review"), docs: await starterPersonaFirstLine("docs") };
  mock = await startMockModel((req) => {
    if (modelDown) throw new MockModelError(500, "the mock model is down on purpose");
    const developer = developerMessages(req.body).join("\n");
    const outputs = functionCallOutputs(req.body);
    if (developer.includes(personas.review)) return [assistantMessage("REVIEW-OK: the last commit looks right")];
    if (developer.includes(personas.docs)) {
      if (outputs.length === 0) return [functionCall({ name: "exec_command", args: { cmd: "printf '# The command line\\n\\nSee codex-subagents --help.\\n' > CLI.md" }, callId: "docs_1" })];
      return [assistantMessage("DOCS-OK: wrote CLI.md")];
    }
    // Codex itself, with this server registered: its model delegates to review (no cwd), then reports what came back.
    if (toolNames(req.body).includes("mcp__subagents/delegate")) {
      if (outputs.length === 0) return [functionCall({ name: "delegate", namespace: "mcp__subagents", args: { agent: "review", task: "Review the last commit" }, callId: "top_1" })];
      return [assistantMessage(`TOP-LEVEL GOT: ${outputs.map((o) => o.output).join("\n")}`)];
    }
    return [assistantMessage("a plain answer")];
  });
  // The mock's config.toml and model catalog, to be written into each script's own ~/.codex.
  const home = await makeCodexHome({ baseUrl: mock.baseUrl });
  modelConfig = { config: await readFile(path.join(home.dir, "config.toml"), "utf8"), catalog: path.join(home.dir, "model-catalog.json") };
  modelConfig.catalog = await readFile(modelConfig.catalog, "utf8");
  await home.cleanup();
}, 60_000);

afterAll(async () => {
  await mock?.close();
});

/** A fresh user: home with ~/.codex on the mock, codex on PATH, the executable installed unless the script installs it. */
async function freshUser(script: string): Promise<{ work: string; state: ScriptState }> {
  const [work, home, codexDir, tmp] = await privateScratchWithDirs("cs-cli-script-", "home", "codex-bin", "tmp");
  await mkdir(path.join(home, ".codex"));
  const catalog = path.join(home, ".codex", "model-catalog.json");
  await writeFile(catalog, modelConfig.catalog);
  await writeFile(path.join(home, ".codex", "config.toml"), modelConfig.config.replace(/^model_catalog_json = .*$/m, `model_catalog_json = ${JSON.stringify(catalog)}`));
  await symlink(codexBin, path.join(codexDir, "codex"));
  const localBin = path.join(home, ".local", "bin");
  if (!/^exec install /m.test(script)) {
    await mkdir(localBin, { recursive: true });
    copyFileSync(distBinary, path.join(localBin, "codex-subagents"));
    chmodSync(path.join(localBin, "codex-subagents"), 0o755);
  }
  const env: Record<string, string> = {
    ...TEST_GIT_ENV,
    HOME: home,
    PATH: `${localBin}:${codexDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    TMPDIR: tmp,
    LANG: "C.UTF-8",
    WORK: work,
    PROJECTS: path.join(home, "src"),
  };
  return { work, state: { env, cwd: work, last: null } };
}

/** The README's `[mcp_servers.subagents]` entry, its placeholders the script's home. */
function readmeEntry(home: string): string {
  const fence = markdownFences("README.md", readFileSync(path.join(repoRoot, "README.md"), "utf8")).find((f) => f.marker === "readme-codex-config");
  if (!fence) throw new ScriptError("README.md has no readme-codex-config snippet");
  return fence.text.replaceAll("/home/me", home);
}

/** Every table of the server's entry (`[mcp_servers.subagents]` and its subtables) taken out of a config.toml. */
function withoutEntry(config: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of config.split("\n")) {
    const table = /^\s*\[([^\]]+)\]\s*$/.exec(line)?.[1];
    if (table !== undefined) skipping = table === "mcp_servers.subagents" || table.startsWith("mcp_servers.subagents.");
    if (!skipping) out.push(line);
  }
  return out.join("\n");
}

/** The steps of a GitHub Actions workflow printed in a doc, run here as the runner would (bash -eo pipefail). */
async function docWorkflow(args: string[], state: ScriptState): Promise<void> {
  const [file, expectation] = args;
  const fence = markdownFences(file!, readFileSync(path.join(repoRoot, file!), "utf8")).find((f) => f.lang === "yaml");
  if (!fence) throw new ScriptError(`${file} has no yaml block`);
  const workflow = parseYaml(fence.text) as { jobs: Record<string, { steps: Array<Record<string, any>> }> };
  const [job] = Object.values(workflow.jobs);
  const context = (text: string) => text
    .replaceAll("${{ github.base_ref }}", state.env.BASE_REF!)
    .replaceAll("${{ secrets.OPENAI_API_KEY }}", "sk-test-not-a-real-key-000000")
    // The runner's /tmp is the job's own; here it is the script's.
    .replaceAll("/tmp/", `${state.env.TMPDIR}/`);
  let failed: { line: string; code: number | null; stdout: string; stderr: string } | null = null;
  for (const stepSpec of job!.steps) {
    if (stepSpec.uses !== undefined) {
      // actions/checkout with fetch-depth 0: the whole history of the pull request's head.
      if (!String(stepSpec.uses).startsWith("actions/checkout@") || stepSpec.with?.["fetch-depth"] !== 0) throw new ScriptError(`an unknown step: uses ${stepSpec.uses}`);
      const clone = await runProgram("/usr/bin/env", ["git", "clone", "-q", "--branch", state.env.HEAD_REF!, state.env.ORIGIN!, "."], state);
      if (clone.code !== 0) throw new ScriptError(`checkout failed: ${clone.stderr}`);
      continue;
    }
    const run = String(stepSpec.run ?? "");
    if (run.trim() === "npm i -g @openai/codex") {
      // Installs codex globally: here codex is already on PATH (the pinned one); the global npm is left alone.
      continue;
    }
    if (failed && stepSpec.if !== "always()") continue;
    const env = Object.fromEntries(Object.entries(stepSpec.env ?? {}).map(([k, v]) => [k, context(String(v))]));
    const result = await runProgram("/bin/bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", context(run)], { ...state, env: { ...state.env, ...env } });
    state.last = { ...result, line: `step: ${stepSpec.name ?? run.split("\n")[0]}` };
    if (result.code !== 0 && !failed) failed = state.last;
  }
  if (expectation === "fails" && !failed) throw new ScriptError("the job succeeded, but it should have failed");
  if (expectation !== "fails" && failed) throw new ScriptError(`the job failed at ${failed.line}`);
  // What the script checks next is the step that failed (its log), when one did.
  if (failed) state.last = failed;
}

const COMMANDS: ScriptCommands = {
  /** What a release download leaves in the directory: the asset, and a checksums.txt that lists it. */
  "release-download": async (_args, state) => {
    const asset = path.join(state.cwd, "codex-subagents-linux-x64");
    copyFileSync(distBinary, asset);
    chmodSync(asset, 0o644);
    const sha = createHash("sha256").update(readFileSync(asset)).digest("hex");
    await writeFile(path.join(state.cwd, "checksums.txt"), `${sha}  codex-subagents-linux-x64\n`);
  },
  /** A git repository of what DIR holds, one commit on main, as the user's project already is. */
  "git-repo": async ([dir], state) => {
    const cwd = path.resolve(state.cwd, dir!);
    for (const argv of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]]) {
      const r = await runProgram("/usr/bin/env", ["git", ...argv], { ...state, cwd });
      if (r.code !== 0) throw new ScriptError(`git ${argv.join(" ")}: ${r.stderr}`);
    }
  },
  /** NAME = the newest run id in the runs directory. */
  "newest-run": async ([name], state) => {
    const runsDir = path.join(state.env.HOME!, ".codex", "subagents", "runs");
    const newest = (await readdir(runsDir)).sort().at(-1);
    if (!newest) throw new ScriptError(`no run record in ${runsDir}`);
    state.env[name!] = newest;
  },
  /** Do what the README says after `codex mcp add` (replace), or what it warns against (append). */
  "readme-codex-config": async ([how], state) => {
    const file = path.join(state.env.HOME!, ".codex", "config.toml");
    const config = await readFile(file, "utf8");
    const entry = readmeEntry(state.env.HOME!);
    await writeFile(file, how === "append" ? `${config}\n${entry}\n` : `${withoutEntry(config).trimEnd()}\n\n${entry}\n`);
  },
  "model-down": async ([on]) => {
    modelDown = on === "on";
  },
  "doc-workflow": docWorkflow,
};

describe("the docs' commands, run as a user types them", () => {
  for (const file of SCRIPTS) {
    test(file, async () => {
      const text = readFileSync(path.join(TESTDATA, file), "utf8");
      const { work, state } = await freshUser(text);
      try {
        await runScript(text, file, state, COMMANDS);
      } finally {
        modelDown = false;
        if (!process.env.KEEP) await rm(work, { recursive: true, force: true });
      }
    }, 300_000);
  }
});

/** A doc command line as the scripts write it: placeholders as variables, the trailing comment gone. */
function normalized(line: string): string {
  return line.replace(/\s+#\s.*$/, "").replaceAll("/home/me", "$HOME").replace(/\bRUN_ID\b/g, "$RUN_ID").replace(/\s+/g, " ").trim();
}

/** Blocks that run codex-subagents but that no script runs, each with the reason. */
const NOT_RUN: Record<string, string> = {
  "npm ci && npm start": "installs every dev dependency from the npm registry and rebuilds dist/ that other tests use; CI runs it (.ci/run)",
  "npm ci && npm test": "the whole suite; CI runs it (.ci/run)",
};

describe("every command block of README.md and docs/BACKGROUND.md is run by a script", () => {
  test("each command line of a block that runs codex-subagents appears, as printed, in a script", () => {
    const scriptLines = new Set(SCRIPTS.flatMap((f) => readFileSync(path.join(TESTDATA, f), "utf8").split("\n"))
      .map((l) => l.trim().replace(/^! /, ""))
      .filter((l) => l.startsWith("exec "))
      .map((l) => l.slice(5).replace(/\s+/g, " ").trim()));
    const missing: string[] = [];
    let blocks = 0;
    for (const file of ["README.md", "docs/BACKGROUND.md"]) {
      for (const fence of markdownFences(file, readFileSync(path.join(repoRoot, file), "utf8"))) {
        if (fence.lang === "yaml") {
          // The pull-request job: pr-job.txt runs its steps from the doc itself.
          expect(readFileSync(path.join(TESTDATA, "pr-job.txt"), "utf8")).toContain(`doc-workflow ${file}`);
          blocks += 1;
          continue;
        }
        if (fence.lang !== "sh") continue;
        const lines = fence.text.replace(/\\\n\s*/g, "").split("\n").map(normalized).filter((l) => l !== "");
        if (!lines.some((l) => l.includes("codex-subagents") || l.includes("npm start"))) continue;
        blocks += 1;
        for (const line of lines) if (!NOT_RUN[line] && !scriptLines.has(line)) missing.push(`${file}:${fence.line}: ${line}`);
      }
    }
    expect(missing).toEqual([]);
    expect(blocks).toBeGreaterThanOrEqual(6);
  });
});
