// Load: 50 concurrent delegate calls against a server with --max-concurrency 4. Every call is answered exactly once,
// never more than 4 codex children run at once, calls that had to wait were told so in a progress message, and the
// server's peak memory is printed.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, fakeCall, newToken, reportFiles, startServer, useScratch, type AdversarialServer,
} from "./harness.ts";

const CALLS = 50;
const MAX_CONCURRENCY = 4;

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;

beforeAll(async () => {
  server = await startServer(scratch, { args: ["--max-concurrency", String(MAX_CONCURRENCY)] });
});

function memoryKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

describe("load", () => {
  test(`${CALLS} concurrent delegate calls with --max-concurrency ${MAX_CONCURRENCY}`, async () => {
    const token = newToken("load");
    const progress = new Map<number, string[]>();
    const started = Date.now();
    const calls = Array.from({ length: CALLS }, (_, i) => {
      progress.set(i, []);
      return server.client.callTool(
        { name: "delegate", arguments: fakeCall(scratch, token, { sleepMs: 150, final: `answer ${i}` }, { task: `call ${i}` }) },
        { onprogress: (p) => void progress.get(i)!.push(String(p.message ?? "")), timeout: 120_000 },
      );
    });
    const results: any[] = await Promise.all(calls);
    const elapsedMs = Date.now() - started;

    // Every call answered, each with its own answer: exactly once and not mixed up.
    expect(results.map((r) => r.structuredContent?.final_message)).toEqual(Array.from({ length: CALLS }, (_, i) => `answer ${i}`));
    expect(results.every((r) => !r.isError)).toBe(true);

    // Every codex saw its own task, and no more than MAX_CONCURRENCY ran at once (each fake counts the running ones
    // when it starts; the later of two overlapping runs sees both).
    const tasks = (await reportFiles(scratch, "stdin-")).sort();
    expect(tasks).toEqual(Array.from({ length: CALLS }, (_, i) => `call ${i}`).sort());
    const seen = (await reportFiles(scratch, "maxseen-")).map(Number);
    expect(seen).toHaveLength(CALLS);
    const peakConcurrent = Math.max(...seen);
    expect(peakConcurrent).toBeLessThanOrEqual(MAX_CONCURRENCY);
    expect(await readdir(path.join(scratch.report, "running"))).toEqual([]);

    // Calls beyond the first few waited, and said so.
    const waited = [...progress.values()].filter((messages) => messages.some((m) => m.startsWith("waiting for a free slot"))).length;
    expect(waited).toBeGreaterThanOrEqual(CALLS - MAX_CONCURRENCY);

    const memory = memoryKiB(server.pid!);
    process.stderr.write(
      `  load: ${CALLS} calls, --max-concurrency ${MAX_CONCURRENCY}: peak ${peakConcurrent} codex at once, ${waited} calls told to wait, ` +
        `${elapsedMs} ms in all; server VmRSS ${memory.rss} KiB, peak VmHWM ${memory.hwm} KiB\n`,
    );
    await afterCase(server, token);
  }, 120_000);
});
