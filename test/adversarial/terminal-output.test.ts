// `codex-subagents run` on a terminal: the final message is the sub-agent's text, so a model can put escape sequences
// in it (set the window title, clear the screen, in some terminals write the clipboard). On a TTY it is now printed
// with control characters escaped (escape.ts printable); --json and a pipe get it unchanged. The TTY is a real
// pseudo-terminal (util-linux `script`).
// A failed run's diagnostics on stderr carry the sub-agent's text too: the notes name files it made (a `.env…` file
// left out of the patch), and codex's stderr tail is its output. Those are escaped whatever stderr is (cli-io.ts
// diagnosticIO), so a file named `.env<ESC>]0;…<BEL><ESC>[2J` cannot retitle or clear the terminal through them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { distBinary } from "../helpers/paths.ts";
import { commitAll, countBadInput, FAKE_CODEX, fakePersona, makeScratch, reportTally, serverEnv, type Scratch } from "./harness.ts";

let scratch: Scratch;
const HOSTILE = "result: \u001b]0;pwned-title\u0007\u001b[2J\u001b[31mred\u001b[0m done";
const ESCAPES = "\u001b]0;pwned-title\u0007\u001b[2J";

beforeAll(async () => {
  scratch = await makeScratch();
  await mkdir(path.join(scratch.root, "agents-outside"));
  await writeFile(path.join(scratch.root, "agents-outside", "talker.md"), `---\ndescription: says hostile things\n---\n${fakePersona({ token: "tty", report: scratch.report, final: HOSTILE })}\n`);
  // Fails (exit 3) after naming a secret-shaped file with escape sequences in its worktree and on its stderr.
  const failing = fakePersona({ token: "tty-fail", report: scratch.report, exitCode: 3, secrets: [ESCAPES], plant: [{ path: `.env${ESCAPES}`, text: "TOKEN=x\n" }] });
  await writeFile(path.join(scratch.root, "agents-outside", "failer.md"), `---\ndescription: fails with hostile notes\nsandbox_mode: workspace-write\n---\n${failing}\n`);
  await writeFile(path.join(scratch.root, "README.md"), "a repository\n");
  commitAll(scratch.root);
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

test("a failed run's notes, codex's stderr tail and its refusals reach stderr escaped, terminal or not", () => {
  countBadInput();
  const failed = spawnSync(distBinary, ["run", "failer", "fail", "--agents-dir", path.join(scratch.root, "agents-outside"), "--codex", FAKE_CODEX, "--cwd", scratch.root, "--isolation", "worktree"], { cwd: scratch.root, env: serverEnv(scratch, { PATH: process.env.PATH! }), encoding: "utf8" });
  expect(failed.status).toBe(1);
  expect(failed.stdout).toBe("");
  // The note and the tail are there, with their control characters shown as "?".
  expect(failed.stderr).toContain("note: left out of the patch: 1 file(s)");
  expect(failed.stderr).toContain(".env?]0;pwned-title??[2J");
  expect(failed.stderr).toContain("codex stderr (tail):");
  expect(failed.stderr).toContain("debug: using ?]0;pwned-title??[2J");
  expect(failed.stderr).not.toContain("\u001b");
  expect(failed.stderr).not.toContain("\u0007");
  // A refusal that quotes what it was given: the same.
  const refused = spawnSync(distBinary, ["run", "failer", "fail", "--agents-dir", path.join(scratch.root, "agents-outside"), "--codex", FAKE_CODEX, "--cwd", path.join(scratch.root, `no${ESCAPES}such`)], { cwd: scratch.root, env: serverEnv(scratch), encoding: "utf8" });
  expect(refused.status).toBe(2);
  expect(refused.stderr).toContain("no?]0;pwned-title??[2Jsuch");
  expect(refused.stderr).not.toContain("\u001b");
});
