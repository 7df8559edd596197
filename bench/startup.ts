/**
 * Start-up benchmark: time from spawn to the MCP `initialize` response, median of interleaved runs.
 *
 *   node_modules/.bin/bun run bench/startup.ts [--runs N] [--compare EXECUTABLE]...
 *
 * Compares the release executable (as build.ts makes it) with the same source as the `.mjs` under Node, with an
 * executable built without `--bytecode`, and with an empty program compiled the same way (the floor); also the
 * release executable's answer to `server/discover` (the 2026-07-28 opening). `--compare` adds another executable
 * to the same interleaved runs, e.g. one built from main with `bun run build.ts --out DIR` (before and after a
 * change, measured together). On Linux it also prints the CPU time each had used by its answer (mean of the runs),
 * which a busy machine disturbs far less than the wall time. Also prints each release asset's size and how long
 * `--verify` takes. Numbers, not assertions: machines are noisy.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { BUNDLE_PLUGINS, JIT_POLICY, SCRIPT_ASSET, TARGETS } from "../build.ts";
import { discoverRequestLine, initializeRequestLine } from "../test/helpers/e2e-initialize.ts";

const ROOT = join(dirname(Bun.fileURLToPath(import.meta.url)), "..");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg === -1 ? 21 : Number(process.argv[runsArg + 1]);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs needs a positive integer");
const COMPARE = process.argv.flatMap((arg, i) => (arg === "--compare" ? [process.argv[i + 1] ?? ""] : []));
if (COMPARE.some((file) => !file || !Bun.file(file).size)) throw new Error("--compare needs an executable file");

const INITIALIZE = initializeRequestLine("bench");
const DISCOVER = discoverRequestLine("bench");
/** The start-up the issue asks for: at most this many times the empty program. */
const GOAL_VS_EMPTY = 1.5;

/** The floor: reads one line, answers it, exits. Compiled with the release flags. */
const EMPTY_PROGRAM = `process.stdin.once("data", () => { process.stdout.write('{"jsonrpc":"2.0","id":0,"result":{}}\\n'); process.exit(0); });\n`;

/**
 * The CPU time (user + system, ms) process `pid` has used so far, from /proc (Linux); null elsewhere. On a shared
 * machine it moves much less than the wall time with the load.
 */
function cpuMsOf(pid: number | undefined): number | null {
  if (pid === undefined || process.platform !== "linux") return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

/** Spawn to the first answer line: wall time, and the CPU time the program had used by then. */
async function timeToInitialize(command: string, args: string[], cwd: string, request = INITIALIZE): Promise<{ wallMs: number; cpuMs: number | null }> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "ignore"], env: { PATH: process.env.PATH ?? "", HOME: cwd } });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    return await new Promise<{ wallMs: number; cpuMs: number | null }>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve({ wallMs: performance.now() - started, cpuMs: cpuMsOf(child.pid) });
      });
      child.once("exit", (code) => reject(new Error(`${command} exited (${code}) before answering`)));
      child.stdin.write(request);
    });
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function compile(entry: string, outfile: string, options: { bytecode: boolean; jitPolicy: number }): Promise<void> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: "bun",
    format: "esm",
    bytecode: options.bytecode,
    minify: { whitespace: true, syntax: true, identifiers: false },
    plugins: BUNDLE_PLUGINS,
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false, jitPolicy: options.jitPolicy },
    throw: false,
  });
  if (!result.success) throw new Error(`compiling ${entry} failed:\n${result.logs.map(String).join("\n")}`);
}

const host = TARGETS.find((t) => t.platform === process.platform && t.arch === process.arch);
if (!host) throw new Error(`no release target for ${process.platform}-${process.arch}`);

const work = mkdtempSync(join(tmpdir(), "codex-subagents-bench-"));
try {
  process.stderr.write("building the release assets (build.ts --release)…\n");
  const dist = join(work, "dist");
  const build = spawnSync(process.execPath, ["run", join(ROOT, "build.ts"), "--release", "--out", dist], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0) throw new Error("build.ts --release failed");
  writeFileSync(join(work, "empty.ts"), EMPTY_PROGRAM);
  await compile(join(work, "empty.ts"), join(work, "empty"), { bytecode: true, jitPolicy: JIT_POLICY });
  await compile(join(ROOT, "src", "cli.ts"), join(work, "no-bytecode"), { bytecode: false, jitPolicy: JIT_POLICY });
  await compile(join(ROOT, "src", "cli.ts"), join(work, "jit-policy-1"), { bytecode: true, jitPolicy: 1 });

  const cwd = mkdtempSync(join(work, "cwd-"));
  const contenders: { label: string; command: string; args: string[]; request?: string }[] = [
    { label: "release executable (--bytecode)", command: join(dist, host.asset), args: [] },
    { label: "release, server/discover", command: join(dist, host.asset), args: [], request: DISCOVER },
    ...COMPARE.map((file) => ({ label: `--compare ${basename(file)}`.slice(0, 35), command: file, args: [] })),
    { label: "executable without --bytecode", command: join(work, "no-bytecode"), args: [] },
    { label: "executable with JIT policy 1", command: join(work, "jit-policy-1"), args: [] },
    { label: ".mjs under node", command: "node", args: [join(dist, SCRIPT_ASSET)] },
    { label: "empty program, same flags", command: join(work, "empty"), args: [] },
  ];
  const samples = contenders.map(() => [] as number[]);
  const cpuSamples = contenders.map(() => [] as number[]);
  for (const c of contenders) await timeToInitialize(c.command, c.args, cwd, c.request); // warm the page cache
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < contenders.length; i++) {
      const { wallMs, cpuMs } = await timeToInitialize(contenders[i]!.command, contenders[i]!.args, cwd, contenders[i]!.request);
      samples[i]!.push(wallMs);
      if (cpuMs !== null) cpuSamples[i]!.push(cpuMs);
    }
  }
  const medians = samples.map(median);
  // CPU time is counted in 10 ms ticks: the mean of many runs resolves better than their median.
  const cpuMeans = cpuSamples.map((values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null));
  const emptyCpu = cpuMeans.at(-1) ?? null;
  const release = medians[0]!;
  const node = medians[contenders.findIndex((c) => c.label === ".mjs under node")]!;
  const empty = medians[contenders.length - 1]!;

  const out: string[] = [];
  out.push(`start-up: spawn → initialize response, median of ${RUNS} interleaved runs (${process.platform}-${process.arch}, bun ${Bun.version}, node ${spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim()})`);
  out.push("");
  out.push(`${"program".padEnd(36)}${"median ms".padStart(10)}${"vs .mjs/node".padStart(14)}${"vs empty".padStart(10)}${"cpu ms".padStart(9)}${"cpu vs empty".padStart(14)}`);
  contenders.forEach((c, i) => {
    const cpu = cpuMeans[i];
    const cpuColumns = cpu == null || emptyCpu == null ? "" : `${cpu.toFixed(0).padStart(9)}${`${(cpu / emptyCpu).toFixed(2)}×`.padStart(14)}`;
    out.push(`${c.label.padEnd(36)}${medians[i]!.toFixed(1).padStart(10)}${`${(medians[i]! / node).toFixed(2)}×`.padStart(14)}${`${(medians[i]! / empty).toFixed(2)}×`.padStart(10)}${cpuColumns}`);
  });
  out.push("");
  out.push(`goals: release ≤ 0.25× node (now ${(release / node).toFixed(2)}×), ≤ ${GOAL_VS_EMPTY}× empty (now ${(release / empty).toFixed(2)}×)`);
  COMPARE.forEach((file, i) => {
    const compared = medians[2 + i]!;
    const cpu = cpuMeans[0] != null && cpuMeans[2 + i] != null ? `; CPU ${(cpuMeans[0]! / cpuMeans[2 + i]!).toFixed(2)}×` : "";
    out.push(`release vs ${file}: ${(release / compared).toFixed(2)}× (${compared.toFixed(1)} ms there, ${(compared / empty).toFixed(2)}× empty)${cpu}`);
  });

  out.push("", "asset sizes:");
  for (const name of [...TARGETS.map((t) => t.asset), SCRIPT_ASSET]) {
    out.push(`  ${name.padEnd(34)}${(statSync(join(dist, name)).size / 1e6).toFixed(1).padStart(8)} MB`);
  }

  const verifyTimes: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const verify = spawnSync(join(dist, host.asset), ["--verify"], { cwd, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    verifyTimes.push(performance.now() - started);
    if (verify.status !== 0) throw new Error(`--verify failed (exit ${verify.status}):\n${verify.stdout}`);
  }
  out.push("", `--verify (hashes the ${(statSync(join(dist, host.asset)).size / 1e6).toFixed(0)} MB executable), spawn to exit, median of 5: ${median(verifyTimes).toFixed(0)} ms`);
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
