/**
 * The price of asking codex which MCP servers it would start (`codex … mcp list --json`, run before every delegation,
 * src/delegation/reach.ts) next to the run it precedes: the real codex, offline against the mock model, with a
 * config that declares two MCP servers. Interleaved runs, medians, one table.
 *
 *   bun run bench/mcp-list.ts [--runs 15] [--codex PATH]
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildCodexGlobalArgs } from "../src/codex/args.ts";
import { listMcpServers } from "../src/codex/mcp-servers.ts";
import { makeCodexHome } from "../test/helpers/codex-home.ts";
import { assistantMessage, startMockModel } from "../test/helpers/mock-model.ts";
import { codexBin } from "../test/helpers/paths.ts";

const arg = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const runs = Number(arg("--runs") ?? 15);
const codex = arg("--codex") ?? codexBin;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const mock = await startMockModel(() => [assistantMessage("done")]);
const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-bench-mcp-list-")));
const server = (name: string) => `[mcp_servers.${name}]\ncommand = "/bin/true"\nenabled = true`;
const home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: scratch, extraConfig: `${server("notes")}\n${server("files")}` });
const work = path.join(scratch, "work");
await mkdir(work);
const global = buildCodexGlobalArgs({
  agent: { name: "bench", file: "bench.md", persona: "You answer.", sandbox_mode: "read-only" },
  workingDir: work,
  lastMessageFile: path.join(scratch, "last.txt"),
  reach: { webSearch: "disabled", network: false, mcpServers: { notes: false, files: false }, untrustedProjects: [] },
});

async function list(): Promise<number> {
  const t0 = performance.now();
  const listed = await listMcpServers({ codexPath: codex, globalArgs: global, cwd: work, env: home.env });
  if ("problem" in listed) throw new Error(listed.problem);
  return performance.now() - t0;
}

function exec(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(codex, [...global, "exec", "--json", "--skip-git-repo-check", "--ignore-rules", "-"], { cwd: work, env: home.env, stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`codex exec exited with ${code}`))));
    child.stdin.end("say done");
  });
}

const lists: number[] = [];
const execs: number[] = [];
await list();
await exec();
for (let i = 0; i < runs; i++) {
  lists.push(await list());
  execs.push(await exec());
}
await mock.close();
await home.cleanup();
await rm(scratch, { recursive: true, force: true });

const l = median(lists);
const e = median(execs);
console.log(`codex mcp list --json before each run, ${runs} interleaved runs (medians), ${codex}`);
console.log(`  mcp list               ${l.toFixed(0).padStart(6)} ms`);
console.log(`  codex exec (mock)      ${e.toFixed(0).padStart(6)} ms`);
console.log(`  list / exec            ${(l / e).toFixed(2).padStart(6)}`);
