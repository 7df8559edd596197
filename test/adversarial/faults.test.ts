// Bounded everything, no orphans: a codex that floods, hangs, ignores SIGTERM, forks, crashes or speaks garbage is
// ended (with everything it started) and cleaned up after, and the server's memory stays flat.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, caseOnServer, commitAll, countBadInput, expectNothingLeftAfterClose, fakeCall, isAlive, newToken, processesWith, startServer,
  useScratch, waitFor, withFreshScratch, type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;

function memoryKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

beforeAll(async () => {
  // A git repository as the root, so worktree isolation can be attacked too.
  await writeFile(path.join(scratch.root, "README.md"), "hello\n");
  commitAll(scratch.root);
  server = await startServer(scratch);
});

/** Pids the fake recorded (itself and its grandchildren). */
async function recordedPids(): Promise<number[]> {
  return (await readdir(path.join(scratch.report, "pids")).catch(() => [] as string[])).map(Number);
}

describe("output floods leave the server's memory flat", () => {
  const GiB = 1024 * 1024 * 1024;
  const floods: Array<[string, Record<string, unknown>]> = [
    ["1 GiB of stdout lines", { stdoutBytes: GiB }],
    ["1 GiB of stdout without a single newline", { stdoutBytes: GiB, stdoutNoNewline: true }],
    ["1 GiB of stderr", { stderrBytes: GiB }],
  ];
  for (const [attack, script] of floods) {
    test(`${attack}`, async () => {
      countBadInput();
      const pid = server.pid!;
      const before = memoryKiB(pid);
      const token = newToken("flood");
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, script) });
      const after = memoryKiB(pid);
      process.stderr.write(`  ${attack}: server VmRSS ${before.rss} → ${after.rss} KiB, VmHWM ${before.hwm} → ${after.hwm} KiB\n`);
      expect(result.structuredContent.final_message).toBe("fake done");
      expect(Buffer.byteLength(result.structuredContent.stderr_tail)).toBeLessThanOrEqual(8 * 1024);
      // Flat: the peak grew by a small fraction of what was written (ring buffers, dropped over-long lines; what
      // growth there is, is garbage not yet collected — it does not scale with the flood).
      expect(after.hwm - before.hwm).toBeLessThan(256 * 1024);
      await afterCase(server, token);
    }, 120_000);
  }
});

describe("time limit and cancel end codex and everything it started within 5 s", () => {
  for (const isolation of ["none", "mirror", "worktree"] as const) {
    test(`timeout_s: 1 ends a SIGTERM-ignoring codex and its SIGTERM-ignoring grandchildren (isolation ${isolation})`, async () => {
      countBadInput();
      const token = newToken("timeout");
      const result: any = await server.client.callTool({
        name: "delegate",
        arguments: fakeCall(scratch, token, { ignoreTerm: true, grandchildren: 3, sleepMs: 120_000 }, { timeout_s: 1, isolation }),
      });
      const pids = await recordedPids();
      expect(pids.length).toBe(4);
      expect(await waitFor(() => processesWith(token).length === 0 && pids.every((p) => !isAlive(p)), 5000)).toBe(true);
      // Gone by the time the result arrived (plus the 5 s the contract allows): a survivor fails here. How fast the
      // kill lands after the signal is checked from the moment of cancel, below; here workspace set-up on a busy
      // machine would blur the clock.
      expect(result.structuredContent.timed_out).toBe(true);
      expect(result.structuredContent.ok).toBe(false);
      expect(result.structuredContent.isolation).toBe(isolation);
      await afterCase(server, token);
    }, 30_000);
  }

  for (const isolation of ["none", "mirror", "worktree"] as const) {
    test(`notifications/cancelled ends a SIGTERM-ignoring codex and its grandchildren (isolation ${isolation})`, async () => {
      countBadInput();
      const token = newToken("cancel");
      const controller = new AbortController();
      const call = server.client.callTool(
        { name: "delegate", arguments: fakeCall(scratch, token, { ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }, { isolation }) },
        { signal: controller.signal },
      );
      call.catch(() => {});
      expect(await waitFor(async () => (await recordedPids()).length === 3, 20_000)).toBe(true);
      const pids = await recordedPids();
      controller.abort();
      await expect(call).rejects.toThrow();
      const cancelledAt = Date.now();
      expect(await waitFor(() => processesWith(token).length === 0 && pids.every((p) => !isAlive(p)), 5000)).toBe(true);
      expect(Date.now() - cancelledAt).toBeLessThan(5000 + 1000);
      // The workspace goes too (removal follows the kill; afterCase waits a little for it).
      await waitFor(async () => (await readdir(scratch.tmp)).length === 0, 5000);
      await afterCase(server, token);
    }, 40_000);
  }

  test("a codex that never reads stdin and never exits is ended at the time limit", async () => {
    countBadInput();
    const token = newToken("no-stdin");
    const result: any = await server.client.callTool({
      name: "delegate",
      arguments: fakeCall(scratch, token, { readStdin: false, ignoreTerm: true, sleepMs: 120_000 }, { timeout_s: 1, task: "z".repeat(1024 * 1024) }),
    });
    expect(result.structuredContent.timed_out).toBe(true);
    await afterCase(server, token);
  }, 30_000);

  test("timeout_s above the server's --timeout is capped, not obeyed", async () => {
    countBadInput();
    const token = newToken("cap");
    await withFreshScratch((capped) => caseOnServer(capped, { args: ["--timeout", "1"], token }, async (s) => {
      const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(capped, token, { sleepMs: 120_000 }, { timeout_s: 3600 }) });
      expect(result.structuredContent.timed_out).toBe(true);
    }));
  }, 30_000);
});

describe("a broken codex is data, not a crash", () => {
  test("codex dies by SIGSEGV mid-run", async () => {
    countBadInput();
    const token = newToken("crash");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { crash: true, grandchildren: 1 }) });
    expect(result.isError).toBe(true);
    expect(result.structuredContent.ok).toBe(false);
    expect(result.structuredContent.exit_code).toBe(null);
    await afterCase(server, token);
  });

  test("codex exits non-zero with a final message", async () => {
    countBadInput();
    const token = newToken("exit3");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { exitCode: 3, final: "partial" }) });
    expect(result.structuredContent.ok).toBe(false);
    expect(result.structuredContent.exit_code).toBe(3);
    expect(result.structuredContent.final_message).toBe("partial");
    // The result is structuredContent and the same JSON as a text block, failed or not.
    expect(JSON.parse(result.content[0].text)).toEqual(result.structuredContent);
    expect(result.content.map((c: any) => c.text).join("\n")).toContain("did not succeed: codex exited with 3");
    await afterCase(server, token);
  });

  test("malformed JSON, wrong types and control bytes among the events", async () => {
    countBadInput(8);
    const token = newToken("malformed");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { malformed: true }) });
    expect(result.structuredContent.ok).toBe(true);
    expect(result.structuredContent.final_message).toBe("fake done");
    const usage = result.structuredContent.usage;
    for (const value of Object.values(usage)) expect(Number.isFinite(value as number) && (value as number) >= 0).toBe(true);
    await afterCase(server, token);
  });

  test("codex that is missing, or not executable, is refused (its MCP servers cannot be listed) saying how to fix --codex", async () => {
    countBadInput(2);
    const notExecutable = path.join(scratch.base, "codex-not-executable");
    await writeFile(notExecutable, "#!/bin/sh\necho hi\n");
    await chmod(notExecutable, 0o644);
    for (const codex of [path.join(scratch.base, "no-such-codex"), notExecutable]) {
      await withFreshScratch((other) => caseOnServer(other, { codex }, async (s) => {
        const result: any = await s.client.callTool({ name: "delegate", arguments: { agent: "explain", task: "hi" } });
        expect(result.isError).toBe(true);
        expect(result.content[0].text).toContain("could not learn which MCP servers codex would start");
        expect(result.content[0].text).toContain("--codex");
      }));
    }
  });
});

describe("spare worktrees: the worktree cases hold against a spare too", () => {
  test("a worktree run after the ones above is set up from the spare, and a timeout on it leaves only the next spare", async () => {
    countBadInput();
    const token = newToken("spare-timeout");
    const result: any = await server.client.callTool({
      name: "delegate",
      arguments: fakeCall(scratch, token, { ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }, { timeout_s: 1, isolation: "worktree" }),
    });
    expect(result.structuredContent.timed_out).toBe(true);
    expect(result.structuredContent.notes.join("\n")).toContain("set-up came from a spare worktree");
    await afterCase(server, token);
  }, 30_000);

  test("after the server exits nothing is left in its TMPDIR, spares included, and git lists no extra worktree", async () => {
    await expectNothingLeftAfterClose(server);
    const listed = spawnSync("git", ["worktree", "list", "--porcelain"], { cwd: scratch.root, encoding: "utf8" }).stdout;
    expect(listed.split("\n").filter((line) => line.startsWith("worktree "))).toEqual([`worktree ${scratch.root}`]);
  });
});
