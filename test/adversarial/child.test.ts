// Least privilege for the child: only the allow-listed environment reaches codex, the task travels only on stdin (so a task
// that looks like a flag or a subcommand stays text), sizes are bounded, the sandbox ceiling and the nesting limit
// are enforced by refusing, never by quietly lowering.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { connectServer } from "../helpers/mcp-client.ts";
import { serverCommand } from "../helpers/server-command.ts";
import {
  afterCase, caseOnServer, countBadInput, expectNoSurvivors, expectNoTempDirs, fakeCall, newToken, reportFiles,
  serverArgs, serverEnv, startServer, useScratch, withFreshScratch, type AdversarialServer,
} from "./harness.ts";

const CANARY = "CANARY_SHOULD_NOT_LEAK";
const CANARY_VALUE = "canary-value-4417";
const ALLOWED = new Set(["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TMPDIR", "TEMP", "TMP", "CODEX_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", "SYSTEMROOT"]);

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;

beforeAll(async () => {
  server = await startServer(scratch, {
    args: ["--pass-env", "MY_PASSED_VAR"],
    env: {
      [CANARY]: CANARY_VALUE,
      AWS_SECRET_ACCESS_KEY: "aws-canary-value",
      GITHUB_TOKEN: "gh-canary-value",
      NODE_OPTIONS: "--require /nonexistent/evil.js",
      LD_PRELOAD: "/nonexistent/evil.so",
      OPENAI_API_KEY: "sk-test-key-for-env-check-000000",
      MY_PASSED_VAR: "passed-value",
      LC_ALL: "C",
    },
  });
});

async function runFake(script: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ result: any; token: string }> {
  const token = newToken("child");
  const result = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, script, extra) });
  return { result, token };
}

describe("only the allow-listed environment reaches codex", () => {
  test("a canary, cloud credentials, NODE_OPTIONS and LD_PRELOAD in the server's env never reach codex; OPENAI_API_KEY and --pass-env do", async () => {
    countBadInput(5);
    const { result, token } = await runFake({});
    expect(result.isError).toBeFalsy();
    const [envText] = await reportFiles(scratch, "env-");
    const env = JSON.parse(envText!);
    expect(env[CANARY]).toBeUndefined();
    expect(JSON.stringify(env)).not.toContain(CANARY_VALUE);
    for (const name of ["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "NODE_OPTIONS", "LD_PRELOAD"]) expect(env[name]).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBe("sk-test-key-for-env-check-000000");
    expect(env.MY_PASSED_VAR).toBe("passed-value");
    expect(env.CODEX_SUBAGENTS_DEPTH).toBe("1");
    expect(env.LC_ALL).toBe("C");
    // GIT_DIR is set on purpose, never taken from the server's env (a planted repository: workspace/codex-git.ts): the
    // scratch root is in no repository, so it names a path that does not exist.
    expect(env.GIT_DIR).toMatch(/no-repository-here$/);
    const extra = Object.keys(env).filter((k) => !ALLOWED.has(k) && !k.startsWith("LC_") && k !== "MY_PASSED_VAR" && k !== "CODEX_SUBAGENTS_DEPTH" && k !== "GIT_DIR");
    expect(extra).toEqual([]);
    await afterCase(server, token);
  });
});

describe("the task goes only to stdin", () => {
  const tasks: Array<[string, string]> = [
    ["a task that is a flag", "--help"],
    ["a task that is a subcommand", "resume"],
    ["a task that names a thread", "resume 0199a213-81c0-7800-8aa1-bbab2a035a53 --last"],
    ["shell metacharacters", "$(touch /tmp/pwned) `id` ; rm -rf / # && | > x"],
    ["a task that tries to end the options", "-- --dangerously-bypass-approvals-and-sandbox"],
    ["newlines and NUL-free control characters", "line one\nline two\r\n\tline three\u0007"],
  ];
  for (const [attack, task] of tasks) {
    test(`arrives intact and never as an argument: ${attack}`, async () => {
      countBadInput();
      const { result, token } = await runFake({}, { task });
      expect(result.isError).toBeFalsy();
      expect(await reportFiles(scratch, "stdin-")).toEqual([task]);
      const argv: string[] = JSON.parse((await reportFiles(scratch, "argv-"))[0]!);
      expect(argv.includes(task)).toBe(false);
      expect(argv.at(-1)).toBe("-");
      expect(argv).toContain("exec");
      expect(argv).not.toContain("resume");
      await afterCase(server, token);
    });
  }

  test("a 1 MiB task (multibyte characters included) arrives byte for byte", async () => {
    const unit = "é€ab🙂"; // 2 + 3 + 1 + 1 + 4 bytes
    let task = unit.repeat(Math.floor((1024 * 1024) / Buffer.byteLength(unit)));
    task += "x".repeat(1024 * 1024 - Buffer.byteLength(task));
    expect(Buffer.byteLength(task)).toBe(1024 * 1024);
    const { result, token } = await runFake({}, { task });
    expect(result.isError).toBeFalsy();
    const [seen] = await reportFiles(scratch, "stdin-");
    expect(seen!.length).toBe(task.length);
    expect(seen === task).toBe(true);
    await afterCase(server, token);
  });

  test("a task one byte over 1 MiB is refused before codex starts", async () => {
    countBadInput();
    const token = newToken("big-task");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { task: "x".repeat(1024 * 1024 + 1) }) });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain("1 MiB");
    expect(await readdir(scratch.report)).toEqual([]);
    await afterCase(server, token);
  });

  test("a codex that never reads stdin does not hang the server on a 1 MiB task", async () => {
    countBadInput();
    const { result, token } = await runFake({ readStdin: false }, { task: "y".repeat(1024 * 1024) });
    expect(result.structuredContent.final_message).toContain("fake done");
    expect(await reportFiles(scratch, "stdin-")).toEqual([]);
    await afterCase(server, token);
  });

  test("an empty task is refused", async () => {
    countBadInput();
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("empty"), {}, { task: "" }) });
    expect(result.isError).toBe(true);
    await afterCase(server);
  });
});

describe("other bounded inputs", () => {
  test("an ad-hoc persona over 64 KiB is refused", async () => {
    countBadInput();
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "big", task: "t", persona: "p".repeat(64 * 1024 + 1) } });
    expect(result.isError).toBe(true);
    expect(await readdir(scratch.report)).toEqual([]);
    await afterCase(server);
  });

  test("a resume value that is not a thread id never reaches codex's argv", async () => {
    for (const resume of ["--last", "../../x", "0199a213-81c0-7800-8aa1-bbab2a035a53 --full-auto", "x".repeat(5000)]) {
      countBadInput();
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("resume"), {}, { resume }) });
      expect(result.isError).toBe(true);
      expect(await readdir(scratch.report)).toEqual([]);
    }
    await afterCase(server);
  });

  test("model and profile values that look like flags or paths are refused", async () => {
    for (const extra of [{ model: "--dangerously-bypass-approvals-and-sandbox" }, { profile: "../../etc/passwd" }, { profile: "-c" }, { model: "a b" }]) {
      countBadInput();
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("flags"), {}, extra) });
      expect(result.isError).toBe(true);
      expect(await readdir(scratch.report)).toEqual([]);
    }
    await afterCase(server);
  });
});

describe("sandbox ceiling", () => {
  test("an ad-hoc sandbox above --max-sandbox (default workspace-write) is refused, naming the limit", async () => {
    countBadInput();
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("sandbox"), {}, { sandbox_mode: "danger-full-access" }) });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain("--max-sandbox");
    expect(await readdir(scratch.report)).toEqual([]);
    await afterCase(server);
  });

  test("an agent that names no sandbox runs read-only", async () => {
    const { token } = await runFake({});
    const argv: string[] = JSON.parse((await reportFiles(scratch, "argv-"))[0]!);
    expect(argv[argv.indexOf("--sandbox") + 1]).toBe("read-only");
    await afterCase(server, token);
  });

  test("with --max-sandbox read-only, a registry agent that wants workspace-write is refused, not lowered", async () => {
    countBadInput(2);
    await withFreshScratch((strict) => caseOnServer(strict, { args: ["--max-sandbox", "read-only"] }, async (s) => {
      const registry: any = await s.client.callTool({ name: "delegate", arguments: { agent: "test", task: "write tests" } });
      expect(registry.isError).toBe(true);
      expect(registry.content[0].text).toContain('"read-only"');
      const adHoc: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(strict, newToken("sb"), {}, { sandbox_mode: "workspace-write" }) });
      expect(adHoc.isError).toBe(true);
      expect(await readdir(strict.report)).toEqual([]);
    }));
  });
});

describe("nesting limit", () => {
  test("a server started at depth 1 with the default --max-depth 1 refuses to delegate", async () => {
    countBadInput();
    await withFreshScratch((nested) => caseOnServer(nested, { env: { CODEX_SUBAGENTS_DEPTH: "1" } }, async (s) => {
      const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(nested, newToken("depth")) });
      expect(result.isError).toBe(true);
      expect(result.content[0].text).toContain("--max-depth");
      expect(await readdir(nested.report)).toEqual([]);
    }));
  });

  test("a garbled depth counts as too deep, never as zero", async () => {
    countBadInput();
    await withFreshScratch((nested) => caseOnServer(nested, { env: { CODEX_SUBAGENTS_DEPTH: "zero" } }, async (s) => {
      const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(nested, newToken("depth")) });
      expect(result.isError).toBe(true);
      expect(await readdir(nested.report)).toEqual([]);
    }));
  });

  test("a nested server whose own environment was stripped (as codex does for MCP servers) still refuses", async () => {
    countBadInput();
    await withFreshScratch(async (nested) => {
      const { command, args } = serverCommand(serverArgs(nested));
      // bash keeps the variable and stays in between (two commands, so it does not exec); the server gets none.
      const s = await connectServer({
        command: "bash",
        args: ["-c", '"$@"; exit $?', "bash", "env", "-u", "CODEX_SUBAGENTS_DEPTH", command, ...args],
        env: serverEnv(nested, { CODEX_SUBAGENTS_DEPTH: "1" }),
        cwd: nested.root,
      });
      try {
        const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(nested, newToken("depth")) });
        expect(result.isError).toBe(true);
        expect(result.content[0].text).toContain("nesting limit");
        await expectNoSurvivors(nested);
        await expectNoTempDirs(nested);
      } finally {
        await s.close();
      }
    });
  });

  test("with --max-depth 2, a server at depth 1 delegates and its codex gets depth 2", async () => {
    const token = newToken("depth-ok");
    await withFreshScratch((nested) => caseOnServer(nested, { args: ["--max-depth", "2"], env: { CODEX_SUBAGENTS_DEPTH: "1" }, token }, async (s) => {
      const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(nested, token) });
      expect(result.isError).toBeFalsy();
      expect(JSON.parse((await reportFiles(nested, "env-"))[0]!).CODEX_SUBAGENTS_DEPTH).toBe("2");
    }));
  });
});
