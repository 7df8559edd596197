// No secrets out: whatever codex prints (stdout events, stderr, the final message), the values of OPENAI_API_KEY and
// of --pass-env variables, and common key shapes never reach the caller's results, progress notifications or the
// server's stderr log.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, countBadInput, fakeCall, newToken, secretsIn, startServer, useScratch, type AdversarialServer,
} from "./harness.ts";

const random = (n: number) => Array.from({ length: n }, () => "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[Math.floor(Math.random() * 56)]).join("");

// Planted values: the API key and a pass-through token are known to the server; the rest are found by their shape.
const OPENAI_KEY = `sk-proj-${random(48)}`;
const PASSED_TOKEN = `ptok${random(28)}`; // no recognisable shape: only its value can give it away
const SHAPED = [
  `sk-${random(40)}`,
  `AKIA${random(16).toUpperCase().replace(/[^A-Z0-9]/g, "Q")}`,
  `ghp_${random(36)}`,
];
const BEARER = random(40);
const PEM_BODY = random(64);
const PEM = `-----BEGIN RSA PRIVATE KEY-----\nMIIE${PEM_BODY}\n${random(64)}\n-----END RSA PRIVATE KEY-----`;
const PRINTED = [OPENAI_KEY, PASSED_TOKEN, ...SHAPED, `Authorization: Bearer ${BEARER}`, PEM];
const LOOKED_FOR = [OPENAI_KEY, PASSED_TOKEN, ...SHAPED, BEARER, PEM_BODY];

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;

beforeAll(async () => {
  server = await startServer(scratch, {
    args: ["--pass-env", "MY_SERVICE_TOKEN", "--log-level", "debug"],
    env: { OPENAI_API_KEY: OPENAI_KEY, MY_SERVICE_TOKEN: PASSED_TOKEN },
  });
});

async function delegateCollecting(args: Record<string, unknown>): Promise<{ result: any; progress: string[] }> {
  const progress: string[] = [];
  const result = await server.client.callTool({ name: "delegate", arguments: args }, {
    onprogress: (p) => void progress.push(String(p.message ?? "")),
  });
  return { result, progress };
}

/** Every file the server wrote below its CODEX_HOME (the run records). */
async function runRecordsText(): Promise<string> {
  const files = (await readdir(scratch.codexHome, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  expect(files.length).toBeGreaterThan(0);
  const texts = await Promise.all(files.map((f) => readFile(path.join(f.parentPath, f.name), "utf8")));
  return texts.join("\n");
}

function expectNoSecrets(where: string, text: string): void {
  expect(secretsIn(text, LOOKED_FOR, where)).toEqual([]);
}

describe("secrets printed by codex are redacted at the one choke point", () => {
  test("planted secrets on stdout events, stderr and in the final message never reach the result, progress or logs", async () => {
    countBadInput(PRINTED.length);
    const token = newToken("secrets");
    const { result, progress } = await delegateCollecting(fakeCall(scratch, token, { secrets: PRINTED, exitCode: 1 }));
    // The fake really printed them: the redacted forms are there, so this test can fail.
    expect(result.structuredContent.final_message).toContain("[REDACTED]");
    expect(result.structuredContent.stderr_tail).toContain("[REDACTED]");
    expect(progress.some((m) => m.includes("[REDACTED]"))).toBe(true);
    expectNoSecrets("result", JSON.stringify(result));
    expectNoSecrets("progress", progress.join("\n"));
    expectNoSecrets("server stderr", server.stderr());
    expectNoSecrets("run records", await runRecordsText());
    await afterCase(server, token);
  });

  test("a secret cut in half by the 8 KiB stderr tail is not shown in part", async () => {
    countBadInput();
    const token = newToken("secrets-tail");
    // "debug: using <token>\n" then padding: the tail's first bytes fall inside the token.
    const { result } = await delegateCollecting(fakeCall(scratch, token, { secrets: [PASSED_TOKEN], stderrPad: 8 * 1024 - 20 }));
    expectNoSecrets("stderr_tail", JSON.stringify(result));
    await afterCase(server, token);
  });

  test("a secret where a progress line is cut to one short line is not shown in part", async () => {
    countBadInput(4 * 5);
    const token = newToken("secrets-progress");
    // The secret starts at column pad + 12 of a text cut at 99 characters: these pads leave 12 to 19 of its
    // characters visible, too few for a shape to be recognised after the cut.
    for (const textPad of [68, 70, 72, 75]) {
      const { result, progress } = await delegateCollecting(fakeCall(scratch, token, { secrets: [PASSED_TOKEN, OPENAI_KEY, ...SHAPED], textPad }));
      expect(progress.length).toBeGreaterThan(0);
      expectNoSecrets(`progress (pad ${textPad})`, progress.join("\n"));
      expectNoSecrets(`result (pad ${textPad})`, JSON.stringify(result));
    }
    expectNoSecrets("server stderr", server.stderr());
    expectNoSecrets("run records", await runRecordsText());
    await afterCase(server, token);
  });

  test("the server's environment secrets do not appear in its own start-up log", () => {
    expectNoSecrets("server stderr", server.stderr());
    expect(server.stderr()).toContain("serving");
  });
});
