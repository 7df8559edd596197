// Bounded output (src/process/output.ts): caps that keep the first or the last bytes and say so, a cap that stops a
// flooding child, and the line splitter codex's `--json` events go through.
import { describe, expect, test } from "bun:test";
import { runProcess } from "../../src/process/index.ts";
import { HeadBuffer, LineSplitter, TailBuffer } from "../../src/process/output.ts";
import { fixture, leftAfter, minimalEnv, RUNTIME, useTokens } from "./helpers.ts";

const token = useTokens();

describe("caps", () => {
  test("stopAtCap: an endless flood is cut at the cap, truncated is set, and the child is ended", async () => {
    const t = token("flood-stop");
    const result = await runProcess(RUNTIME, fixture("flood", t, "stdout", "forever"), { env: minimalEnv(), timeoutMs: 60_000, stdout: { maxBytes: 100_000, stopAtCap: true } });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toMatchObject({ truncated: true });
    expect(result.stdout.bytes.length).toBe(100_000);
    expect(result.stdout.bytes.subarray(0, 100).toString()).toBe(`${"x".repeat(99)}\n`);
    expect(result.timedOut).toBe(false);
    expect(result.signal).toBe("SIGTERM");
    expect(result.durationMs).toBeLessThan(10_000);
    expect(await leftAfter([], t)).toEqual([]);
  });

  test("without stopAtCap the child runs to its end and only the first bytes are kept", async () => {
    const t = token("flood-head");
    const result = await runProcess(RUNTIME, fixture("flood", t, "stdout", "1000000"), { env: minimalEnv(), timeoutMs: 60_000, stdout: { maxBytes: 1000 } });
    expect(result).toMatchObject({ exitCode: 0, truncated: true, timedOut: false });
    expect(result.stdout.bytes.length).toBe(1000);
  });

  test('keep "tail" holds the last bytes of stderr', async () => {
    const t = token("flood-tail");
    const result = await runProcess(RUNTIME, fixture("flood", t, "stderr", "200000"), { env: minimalEnv(), timeoutMs: 60_000, stderr: { maxBytes: 1000, keep: "tail" } });
    expect(result).toMatchObject({ exitCode: 0, truncated: true });
    expect(result.stderr.bytes.length).toBe(1000);
    expect(result.stderr.bytes.toString().endsWith(`${"x".repeat(99)}\n`)).toBe(true);
  });

  test("under the cap nothing is truncated; an unkept stream is read and dropped", async () => {
    const t = token("small");
    const result = await runProcess(RUNTIME, fixture("exit-code", t, "0"), { env: minimalEnv(), timeoutMs: 30_000, stdout: { maxBytes: 1000 } });
    expect(result).toMatchObject({ truncated: false, exitCode: 0 });
    expect(result.stdout.bytes.toString()).toBe("out\n");
    expect(result.stderr).toEqual({ bytes: Buffer.alloc(0), truncated: false });
    // A flood on a stream nobody keeps must not block the child on a full pipe.
    const flood = await runProcess(RUNTIME, fixture("flood", t, "stderr", "2000000"), { env: minimalEnv(), timeoutMs: 60_000 });
    expect(flood).toMatchObject({ exitCode: 0, truncated: false, timedOut: false });
  });

  test("lines are handed over as they arrive, whatever the chunking", async () => {
    const t = token("lines");
    const lines: string[] = [];
    const result = await runProcess(RUNTIME, fixture("flood", t, "stdout", "250000"), { env: minimalEnv(), timeoutMs: 60_000, stdout: { onLine: (l) => lines.push(l) } });
    expect(result.exitCode).toBe(0);
    expect(lines.length).toBe(2500);
    expect(lines.every((l) => l === "x".repeat(99))).toBe(true);
  });
});

describe("buffers", () => {
  test("HeadBuffer keeps the first bytes and says when it is full", () => {
    const head = new HeadBuffer(5);
    expect(head.push(Buffer.from("abc"))).toBe(true);
    expect(head.push(Buffer.from("defg"))).toBe(false);
    expect(head.push(Buffer.from("h"))).toBe(false);
    expect(head.bytes().toString()).toBe("abcde");
    expect(head.truncated).toBe(true);
  });

  test("TailBuffer keeps the last bytes, and drops a character cut in half at the front", () => {
    const tail = new TailBuffer(4);
    tail.push(Buffer.from("ab"));
    expect(tail.truncated).toBe(false);
    tail.push(Buffer.from("cdé")); // 4 bytes: é is two
    expect(tail.text()).toBe("cdé");
    expect(tail.truncated).toBe(true);
    const cut = new TailBuffer(2);
    cut.push(Buffer.from("é!")); // the last 2 bytes are the second half of é, then "!"
    expect(cut.bytes().length).toBe(2);
    expect(cut.text()).toBe("!");
  });

  test("LineSplitter: UTF-8 split across chunks, over-long lines dropped whole, a last unterminated line kept", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(10, (l) => lines.push(l));
    const euro = Buffer.from("€"); // three bytes
    splitter.push(Buffer.concat([Buffer.from("a"), euro.subarray(0, 1)]));
    splitter.push(Buffer.concat([euro.subarray(1), Buffer.from("b\n")]));
    splitter.push(Buffer.from("this line is far too long\nok\nend"));
    splitter.end();
    expect(lines).toEqual(["a€b", "ok", "end"]);
  });
});
