// A small testscript interpreter (after Go's testscript, as FiloSottile/age's cmd/age/testdata/*.txt use it): a
// script is the commands a user types, exactly as the docs print them, each followed by what must and must not
// appear on stdout and stderr, its exit status, and what must (not) exist afterwards.
//
//   # a comment
//   env NAME=VALUE              set a variable for what follows ($NAME and ${NAME} expand in every word)
//   cd DIR
//   exec PROGRAM ARG...         run it (found on the script's PATH, never through a shell); it must exit 0
//   ! exec PROGRAM ARG...       it must exit non-zero (`status N` says which)
//   sh 'LINE'                   run LINE with bash, for a line the docs print with pipes or redirections
//   status N                    the last command's exit status
//   stdout RE / ! stdout RE     the last command's stdout matches (does not match) RE, line-anchored (`m` flag)
//   stderr RE / ! stderr RE     the same for stderr; `! stderr .` means it printed nothing
//   exists PATH / ! exists PATH
//   grep RE FILE / ! grep RE FILE
//   mkdir DIR / write FILE TEXT ("\n" in TEXT is a newline; the directories on the way are made)
//   NAME ARG...                 a command the test file defines (see ScriptCommands)
//
// Words are split as a shell would: '...' is literal, "..." expands variables, `~/` at the start of a word is $HOME.
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runToEnd, type Finished } from "../helpers/run-to-end.ts";

export interface ScriptState {
  env: Record<string, string>;
  cwd: string;
  last: { code: number | null; stdout: string; stderr: string; line: string } | null;
}

/** Commands a test file adds to the language: each gets its words (expanded) and the state. */
export type ScriptCommands = Record<string, (args: string[], state: ScriptState) => Promise<void>>;

export class ScriptError extends Error {}

/** Shell-like words of one script line; variables expanded from `env`. */
export function words(line: string, env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  let current = "";
  let inWord = false;
  const expand = (text: string) => text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => env[a ?? b] ?? "");
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      if (inWord) out.push(current);
      current = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new ScriptError(`unclosed ' in: ${line}`);
      current += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end === -1) throw new ScriptError(`unclosed " in: ${line}`);
      current += expand(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && !" \t'\"".includes(line[j]!)) j++;
      let text = line.slice(i, j);
      if (current === "" && (text === "~" || text.startsWith("~/"))) text = (env.HOME ?? "~") + text.slice(1);
      current += expand(text);
      i = j;
    }
  }
  if (inWord) out.push(current);
  return out;
}

/** Where PROGRAM is on the script's PATH (absolute entries only, as the product itself looks), or the path given. */
function resolveProgram(program: string, state: ScriptState): string {
  if (program.includes("/")) return path.resolve(state.cwd, program);
  for (const dir of (state.env.PATH ?? "").split(":")) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, program);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new ScriptError(`${program}: not found on the script's PATH (${state.env.PATH})`);
}

/** Run a program to its end, stdin closed; a hang guard only, not a speed assertion. */
export function runProgram(file: string, args: string[], state: ScriptState, guardMs = 150_000): Promise<Finished> {
  return runToEnd(file, args, { cwd: state.cwd, env: state.env, hangGuardMs: guardMs });
}

function describeLast(state: ScriptState): string {
  const last = state.last;
  if (!last) return "(no command yet)";
  return `after: ${last.line}\nexit: ${last.code}\nstdout:\n${last.stdout}\nstderr:\n${last.stderr}`;
}

/** Run one script; throws a ScriptError naming the line that failed and what the last command printed. */
export async function runScript(text: string, file: string, state: ScriptState, commands: ScriptCommands = {}): Promise<void> {
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const negated = raw.startsWith("! ");
    const line = negated ? raw.slice(2) : raw;
    const where = `${file}:${n + 1}: ${raw}`;
    try {
      await step(line, negated, state, commands);
    } catch (error) {
      if (error instanceof ScriptError) throw new ScriptError(`${where}\n${error.message}\n${describeLast(state)}`);
      throw error;
    }
  }
}

async function step(line: string, negated: boolean, state: ScriptState, commands: ScriptCommands): Promise<void> {
  const [command, ...args] = words(line, state.env);
  // write FILE TEXT: TEXT is the rest of the line as written (its spaces kept), "\n" a newline.
  if (command === "write") {
    const file = path.resolve(state.cwd, args[0]!);
    const text = line.replace(/^write\s+\S+\s?/, "").replaceAll("\\n", "\n");
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    return;
  }
  const ran = async (file: string, argv: string[]) => {
    const result = await runProgram(file, argv, state);
    state.last = { ...result, line };
    if (!negated && result.code !== 0) throw new ScriptError(`exited with ${result.code}, wanted 0`);
    if (negated && result.code === 0) throw new ScriptError("exited with 0, wanted a failure");
  };
  switch (command) {
    case "env": {
      for (const pair of args) {
        const at = pair.indexOf("=");
        if (at <= 0) throw new ScriptError(`env wants NAME=VALUE, got ${pair}`);
        state.env[pair.slice(0, at)] = pair.slice(at + 1);
      }
      return;
    }
    case "cd":
      state.cwd = path.resolve(state.cwd, args[0]!);
      return;
    case "exec":
      return ran(resolveProgram(args[0]!, state), args.slice(1));
    case "sh":
      return ran("/bin/bash", ["-eo", "pipefail", "-c", args.join(" ")]);
    case "status":
      if (String(state.last?.code) !== args[0]) throw new ScriptError(`exit status ${state.last?.code}, wanted ${args[0]}`);
      return;
    case "stdout":
    case "stderr": {
      const output = state.last?.[command] ?? "";
      const matches = new RegExp(args[0]!, "m").test(output);
      if (matches === negated) throw new ScriptError(`${command} ${negated ? "matches" : "does not match"} ${args[0]}`);
      return;
    }
    case "exists": {
      const there = existsSync(path.resolve(state.cwd, args[0]!));
      if (there === negated) throw new ScriptError(`${args[0]} ${there ? "exists" : "does not exist"}`);
      return;
    }
    case "grep": {
      const content = await readFile(path.resolve(state.cwd, args[1]!), "utf8");
      if (new RegExp(args[0]!, "m").test(content) === negated) throw new ScriptError(`${args[1]} ${negated ? "matches" : "does not match"} ${args[0]}\n--- ${args[1]}:\n${content}`);
      return;
    }
    case "mkdir":
      for (const dir of args) await mkdir(path.resolve(state.cwd, dir), { recursive: true });
      return;
    default: {
      const custom = commands[command!];
      if (!custom) throw new ScriptError(`unknown command ${command}`);
      if (negated) throw new ScriptError(`! is not allowed before ${command}`);
      await custom(args, state);
    }
  }
}
