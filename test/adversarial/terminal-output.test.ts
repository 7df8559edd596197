// `codex-subagents run` on a terminal (issue 8, security review finding E): the final message is the sub-agent's
// text, so a model can put escape sequences in it (set the window title, clear the screen, in some terminals write
// the clipboard). On a TTY it is now printed with control characters escaped (runs/show.ts printable); --json and a
// pipe get it unchanged. The TTY is a real pseudo-terminal (util-linux `script`).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { distBinary } from "../helpers/paths.ts";
import { countBadInput, FAKE_CODEX, fakePersona, makeScratch, reportTally, serverEnv, type Scratch } from "./harness.ts";

let scratch: Scratch;
const HOSTILE = "result: \u001b]0;pwned-title\u0007\u001b[2J\u001b[31mred\u001b[0m done";

beforeAll(async () => {
  scratch = await makeScratch();
  await mkdir(path.join(scratch.root, "agents-outside"));
  await writeFile(path.join(scratch.root, "agents-outside", "talker.md"), `---\ndescription: says hostile things\n---\n${fakePersona({ token: "tty", report: scratch.report, final: HOSTILE })}\n`);
});
afterAll(async () => {
  await scratch?.cleanup();
  reportTally(import.meta.file);
});

const args = () => ["run", "talker", "say it", "--agents-dir", path.join(scratch.root, "agents-outside"), "--codex", FAKE_CODEX, "--cwd", scratch.root];
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

test.skipIf(spawnSync("script", ["--version"]).status !== 0)("on a terminal the final message carries no escape sequence; a pipe gets it as it is", () => {
  countBadInput();
  const tty = spawnSync("script", ["-qec", `${[distBinary, ...args()].map(quote).join(" ")} 2>/dev/null`, "/dev/null"], { cwd: scratch.root, env: serverEnv(scratch), encoding: "utf8" });
  expect(tty.status).toBe(0);
  expect(tty.stdout).toContain("result: ?]0;pwned-title??[2J?[31mred?[0m done");
  expect(tty.stdout).not.toContain("\u001b");
  expect(tty.stdout).not.toContain("\u0007");
  const piped = spawnSync(distBinary, args(), { cwd: scratch.root, env: serverEnv(scratch), encoding: "utf8" });
  expect(piped.status).toBe(0);
  expect(piped.stdout).toBe(`${HOSTILE}\n`);
});
