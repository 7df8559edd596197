/**
 * `codex-subagents convert SRC... --out DIR [--check]`: Claude Code agents and Codex role files → agent files in this
 * server's own format, for a team to adopt and review. Files already in our format are copied unchanged.
 */
import { constants as fsConstants } from "node:fs";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { renderConverted } from "../agents/convert.ts";
import { loadAgentFile, loadAgentsDirWithText, markDuplicateNames, type LoadedAgentFile } from "../agents/registry.ts";
import { hasErrors, type Agent } from "../agents/schema.ts";
import type { CliIO } from "../cli-io.ts";
import { parseFlags } from "../args.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_OK, NotFoundError, UsageError } from "../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

interface Planned {
  source: string;
  result: LoadedAgentFile;
  outFile: string;
  text: string;
}

async function kindOf(p: string): Promise<"dir" | "file" | null> {
  const info = await stat(p).catch(() => null);
  if (!info) return null;
  return info.isDirectory() ? "dir" : "file";
}

/** Security: never write through a link planted at the output path (it could point at any file of the user's). */
async function writeNoFollow(file: string, text: string): Promise<void> {
  const handle = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | (fsConstants.O_NOFOLLOW ?? 0), 0o644);
  try {
    await handle.writeFile(text, "utf8");
  } finally {
    await handle.close();
  }
}

interface ConvertArgs {
  sources: string[];
  outDir: string;
  check: boolean;
}

function parseConvertArgs(argv: string[], cwd: string): ConvertArgs {
  const { values, positionals } = parseFlags(argv, { out: { type: "string" }, check: { type: "boolean" } });
  const outs = values.get("--out") ?? [];
  if (positionals.length === 0) throw new UsageError("convert needs at least one SRC (an agent file or a directory of them)", { hint: "e.g. codex-subagents convert .claude/agents --out agents" });
  if (outs.length !== 1 || outs[0] === "") throw new UsageError("convert needs --out DIR once: the directory to write the converted agents to", { hint: "e.g. codex-subagents convert .claude/agents --out agents" });
  return { sources: positionals, outDir: path.resolve(cwd, outs[0]!), check: values.has("--check") };
}

/** Every agent file the sources name, each with the source it is shown by. */
async function collectSources(sources: readonly string[], cwd: string): Promise<Array<{ source: string; result: LoadedAgentFile }>> {
  const loaded: Array<{ source: string; result: LoadedAgentFile }> = [];
  for (const src of sources) {
    const absolute = path.resolve(cwd, src);
    const kind = await kindOf(absolute);
    if (kind === null) throw new NotFoundError(`no such file or directory "${src}"`, { hint: "give agent files (.md, .json, .toml) or directories that hold them" });
    if (kind === "dir") {
      for (const result of await loadAgentsDirWithText(absolute)) loaded.push({ source: path.join(src, result.file), result });
    } else {
      loaded.push({ source: src, result: await loadAgentFile(absolute) });
    }
  }
  // Across all sources, one output name each: two files claiming one name are refused, naming both.
  markDuplicateNames(loaded.map((l) => l.result));
  return loaded;
}

/** The output file and text for each loadable source; a source with errors is reported and left out. */
function convertEach(loaded: ReadonlyArray<{ source: string; result: LoadedAgentFile }>, outDir: string, io: CliIO): { planned: Planned[]; failed: boolean } {
  let failed = false;
  const planned: Planned[] = [];
  for (const { source, result } of loaded) {
    if (hasErrors(result.issues) || !result.agent) {
      failed = true;
      for (const issue of result.issues.filter((i) => i.level === "error")) {
        io.err(`codex-subagents: error: ${source}: ${issue.code}${issue.field ? ` [${issue.field}]` : ""}: ${issue.message}\n`);
      }
      io.err(`hint: fix ${source} and run convert again; codex-subagents validate shows every issue\n`);
      continue;
    }
    if (result.format === "codex-subagents") {
      planned.push({ source, result, outFile: path.join(outDir, result.file), text: result.text ?? "" });
    } else {
      const text = renderConverted(result as LoadedAgentFile & { agent: Agent }, path.basename(source));
      planned.push({ source, result, outFile: path.join(outDir, `${result.name}.md`), text });
    }
  }
  return { planned, failed };
}

/** What one planned file is in the result lines: its path (relative to cwd when inside it) and where it came from. */
function describePlanned(item: Planned, cwd: string): { shown: string; from: string } {
  const relative = path.relative(cwd, item.outFile);
  const shown = relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : item.outFile;
  const lost = item.result.issues.filter((i) => i.level === "warning").length;
  const from = `from ${item.source}, ${item.result.format}${item.result.format === "codex-subagents" ? ", copied unchanged" : `; ${lost} setting(s) not carried over`}`;
  return { shown, from };
}

/** Write each planned file, or with --check only compare it; says per file what happened. */
async function writeOrCheck(planned: readonly Planned[], args: ConvertArgs, io: CliIO, cwd: string): Promise<{ failed: boolean; differs: boolean }> {
  const { outDir, check } = args;
  let failed = false;
  let differs = false;
  for (const item of planned) {
    const existing = await readFile(item.outFile, "utf8").catch(() => null);
    const { shown, from } = describePlanned(item, cwd);
    if (existing === item.text) {
      io.out(`unchanged ${shown} (${from})\n`);
      continue;
    }
    if (check) {
      differs = true;
      io.out(`${existing === null ? "missing" : "differs"} ${shown} (${from})\n`);
      continue;
    }
    try {
      await mkdir(outDir, { recursive: true });
      await writeNoFollow(item.outFile, item.text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      io.err(cliErrorText(code === "ELOOP"
        ? { message: `cannot write ${shown}: it is a symbolic link (convert does not write through links)`, hint: "remove it" }
        : { message: `cannot write ${shown}: ${(error as Error).message}` }));
      failed = true;
      continue;
    }
    io.out(`wrote ${shown} (${from})\n`);
    if (item.result.format === "codex-subagents" && item.result.file.endsWith(".json") && /"personaFile"/.test(item.text)) {
      io.err(`codex-subagents: note: ${item.source} reads its persona from a personaFile; copy that file into ${shown === item.outFile ? outDir : path.dirname(shown)} too\n`);
    }
  }
  return { failed, differs };
}

export async function convertCommand(argv: string[], io: CliIO, _env: Env, cwd: string): Promise<number> {
  const args = parseConvertArgs(argv, cwd);
  const loaded = await collectSources(args.sources, cwd);
  const converted = convertEach(loaded, args.outDir, io);
  const written = await writeOrCheck(converted.planned, args, io, cwd);
  if (args.check && written.differs) io.err("codex-subagents: converted files differ from those in the output directory\nhint: run the same convert command without --check, review and commit the result\n");
  return converted.failed || written.failed || written.differs ? EXIT_FAILURE : EXIT_OK;
}
