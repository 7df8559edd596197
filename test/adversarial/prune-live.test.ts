// Another process's pruning must not delete a live run's record. A server runs a background run; meanwhile
// `codex-subagents run --keep-runs 1` (and a second server with --keep-runs 1) on the same CODEX_HOME finish runs of
// their own and prune. Before the fix, pruneRuns spared only its own process's runs: the live run's directory was
// removed, its events, result and thread were lost, and get_run said "unknown run_id". Now a record whose run may still
// be going (no result.json, and its server.json names a process that is not known to be gone) is kept; records of
// finished runs and of dead servers are still pruned.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runCli } from "../doctor/run-cli.ts";
import { RUN_FILES } from "../../src/runs/record.ts";
import {
  afterCase, countBadInput, FAKE_CODEX, fakeCall, newToken, reportTally, serverEnv, startServer, waitFor, withFreshScratch, type Scratch,
} from "./harness.ts";

afterAll(() => reportTally(import.meta.file));

const runsDirOf = (scratch: Scratch) => path.join(scratch.codexHome, "subagents", "runs");

/** `codex-subagents run explain … --keep-runs 1` on the scratch's CODEX_HOME: one quick run, then its pruning. */
async function oneShot(scratch: Scratch, task: string) {
  const run = await runCli(["run", "explain", task, "--root", scratch.root, "--codex", FAKE_CODEX, "--keep-runs", "1"], {
    cwd: scratch.root, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.base, ...serverEnv(scratch) },
  });
  expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
}

describe("a running background run's record survives other processes' pruning", () => {
  test("run --keep-runs 1 and a second server with --keep-runs 1 leave it; it finishes, is recorded, and get_run reads it", async () => {
    await withFreshScratch(async (scratch) => {
      const server = await startServer(scratch);
      const other = await startServer(scratch, { args: ["--keep-runs", "1"] });
      try {
        const token = newToken("live-record");
        countBadInput(3);
        const started: any = await server.client.callTool({ name: "delegate", arguments: { ...fakeCall(scratch, token, { sleepMs: 60_000, secrets: [] }), background: true } });
        const id = started.structuredContent.run_id;
        const record = path.join(runsDirOf(scratch), id);
        expect(await waitFor(() => existsSync(path.join(record, RUN_FILES.events)), 20_000)).toBe(true);

        // Newer runs elsewhere, each followed by pruning down to one record.
        await oneShot(scratch, "first");
        await oneShot(scratch, "second");
        const third: any = await other.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("other"), { final: "other done" }) });
        expect(third.structuredContent.ok).toBe(true);
        expect(existsSync(record)).toBe(true);
        // Pruning still prunes: of the three finished runs, only the newest record is left beside the live one.
        const names = (await readdir(runsDirOf(scratch))).sort();
        expect(names).toHaveLength(2);
        expect(names).toContain(id);

        const cancelled: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: id } });
        expect(cancelled.structuredContent.status).toBe("cancelled");
        expect(existsSync(path.join(record, RUN_FILES.result))).toBe(true);
        // Read back from its record, as after a restart (a fresh server that never held the run).
        const fresh = await startServer(scratch);
        const view: any = await fresh.client.callTool({ name: "get_run", arguments: { run_id: id } });
        await fresh.close();
        expect(view.isError).toBeFalsy();
        expect(view.structuredContent).toMatchObject({ run_id: id, status: "cancelled" });
        expect((await readFile(path.join(record, RUN_FILES.events), "utf8")).length).toBeGreaterThan(0);
        await afterCase(server, token);
      } finally {
        await server.close();
        await other.close();
      }
    });
  }, 120_000);

  test("a record without a result whose server is gone is pruned; one of a server on another machine is kept", async () => {
    await withFreshScratch(async (scratch) => {
      const runsDir = runsDirOf(scratch);
      const plant = async (name: string, server: object) => {
        await mkdir(path.join(runsDir, name), { recursive: true });
        await writeFile(path.join(runsDir, name, RUN_FILES.server), JSON.stringify(server));
      };
      const dead = Bun.spawnSync(["true"]).pid;
      await plant(`20200101T000000.000Z-gone-${"a".repeat(32)}`, { pid: dead, host: (await import("node:os")).hostname() });
      await plant(`20200101T000000.001Z-remote-${"b".repeat(32)}`, { pid: 1, host: "another-machine" });
      await oneShot(scratch, "prune");
      const names = await readdir(runsDir);
      expect(names.some((n) => n.includes("-gone-"))).toBe(false);
      expect(names.some((n) => n.includes("-remote-"))).toBe(true);
      expect(names).toHaveLength(2);
    });
  });
});
