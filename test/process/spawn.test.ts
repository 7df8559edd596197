// Starting a child (src/process/spawn.ts): an argument array with no shell, its own process group, only the
// environment it is given, stdin as a text then closed or not connected, and a failure to start as data.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runProcess } from "../../src/process/index.ts";
import { fixture, minimalEnv, pidsIn, processesWith, RUNTIME, useTokens } from "./helpers.ts";

const token = useTokens();
const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "proc-spawn-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("spawn", () => {
  test("arguments reach the program as written: no shell interprets them", async () => {
    const dir = scratch();
    const marker = path.join(dir, "marker");
    const hostile = [`; touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, "| cat", "*", "'quoted' \"twice\""];
    const result = await runProcess("/bin/echo", hostile, { env: minimalEnv(), stdout: { maxBytes: 4096 } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.bytes.toString("utf8")).toBe(`${hostile.join(" ")}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  test("stdin: a text is written whole, then closed (the child reads to EOF)", async () => {
    const t = token("stdin-text");
    const text = `first line\n${"y".repeat(1024 * 1024)}\nlast line, no newline`;
    const result = await runProcess(RUNTIME, fixture("echo-stdin", t), { env: minimalEnv(), input: { text }, timeoutMs: 30_000, stdout: { maxBytes: 4 * 1024 * 1024 } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.bytes.toString("utf8")).toBe(`pipe\n${text}`);
  });

  test('stdin: "ignore" (the default) connects nothing', async () => {
    const t = token("stdin-ignore");
    for (const input of ["ignore" as const, undefined]) {
      const result = await runProcess(RUNTIME, fixture("echo-stdin", t), { env: minimalEnv(), input, timeoutMs: 30_000, stdout: { maxBytes: 4096 } });
      expect(result.stdout.bytes.toString("utf8")).toBe("not a pipe\n");
    }
  });

  test("a child that exits without reading its stdin is not an error of ours", async () => {
    const t = token("stdin-unread");
    const result = await runProcess(RUNTIME, fixture("exit-code", t, "0"), { env: minimalEnv(), input: { text: "z".repeat(8 * 1024 * 1024) }, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, spawnError: null });
  });

  test("the child leads its own process group", async () => {
    const t = token("group");
    const controller = new AbortController();
    let groupOfChild = -1;
    let pidOfChild = -1;
    const result = await runProcess(RUNTIME, fixture("forever", t, "0"), {
      env: minimalEnv(),
      signal: controller.signal,
      timeoutMs: 30_000,
      stdout: {
        onLine: (line) => {
          const [pid] = pidsIn([line]);
          if (pid === undefined) return;
          pidOfChild = pid;
          // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so read after the last ')'.
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          groupOfChild = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
          controller.abort();
        },
      },
    });
    expect(result.cancelled).toBe(true);
    expect(pidOfChild).toBeGreaterThan(0);
    expect(groupOfChild).toBe(pidOfChild);
    expect(groupOfChild).not.toBe(Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[2]));
  });

  test("the child gets exactly the environment it is given, in the directory it is given", async () => {
    const dir = scratch();
    const env = { PATH: "/usr/bin:/bin", ONLY_THIS: "yes" };
    const result = await runProcess("/usr/bin/env", [], { env, cwd: dir, stdout: { maxBytes: 4096 } });
    expect(result.stdout.bytes.toString("utf8").trim().split("\n").sort()).toEqual(["ONLY_THIS=yes", "PATH=/usr/bin:/bin"]);
    const pwd = await runProcess("/bin/pwd", [], { env, cwd: dir, stdout: { maxBytes: 4096 } });
    expect(pwd.stdout.bytes.toString("utf8").trim()).toBe(dir);
  });

  test("a missing program is spawnError (ENOENT), not an exception", async () => {
    const missing = path.join(scratch(), "no-such-program");
    const result = await runProcess(missing, ["--version"], { env: minimalEnv(), timeoutMs: 5000 });
    expect(result.spawnError?.code).toBe("ENOENT");
    expect(result).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: false, truncated: false });
  });

  test("a program that is not executable is spawnError (EACCES)", async () => {
    const file = path.join(scratch(), "not-executable");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    chmodSync(file, 0o644);
    const result = await runProcess(file, [], { env: minimalEnv(), timeoutMs: 5000 });
    expect(result.spawnError?.code).toBe("EACCES");
    expect(result.exitCode).toBeNull();
    expect(processesWith(file)).toEqual([]);
  });
});
