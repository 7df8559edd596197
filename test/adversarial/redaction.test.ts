// Redaction that holds: secrets under prefixed names (env, shell, YAML, JSON) and the token shapes of
// npm, GitLab, Google, Slack and GitHub, printed by a sub-agent in its messages, commands, errors, stderr and final
// message and written into the files of a worktree run's patch, reach none of: the result, the progress
// notifications, the run record, the server's stderr.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, commitAll, countBadInput, expectNoTempDirs, fakeCall, newToken, secretsIn, startServer, useScratch, type AdversarialServer,
} from "./harness.ts";

const ALNUM = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const random = (n: number, alphabet = ALNUM) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");

// Values with no shape of their own: only the name they are assigned to gives them away.
const NAMED = {
  env: random(20),
  shell: random(24),
  yaml: random(22),
  json: random(26),
  flag: random(18),
};
const ASSIGNMENTS = [
  `DB_PASSWORD=${NAMED.env}`,
  `export GITHUB_TOKEN="${NAMED.shell}"`,
  `  client_secret: ${NAMED.yaml}`,
  `{"AWS_SECRET_ACCESS_KEY": "${NAMED.json}"}`,
  `--db-password=${NAMED.flag}`,
];
const SHAPES = [
  `npm_${random(36)}`,
  `glpat-${random(20)}`,
  `AIza${random(35)}`,
  `xoxb-${random(12, "0123456789")}-${random(24)}`,
  `xoxp-${random(12, "0123456789")}-${random(24)}`,
  `ghp_${random(36)}`,
  `gho_${random(36)}`,
  `ghs_${random(36)}`,
  `ghu_${random(36)}`,
  `ghr_${random(36)}`,
  `github_pat_${random(22)}_${random(59)}`,
];
const PRINTED = [...ASSIGNMENTS, ...SHAPES];
const LOOKED_FOR = [...Object.values(NAMED), ...SHAPES];

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;

beforeAll(async () => {
  await writeFile(path.join(scratch.root, "README.md"), "hello\n");
  commitAll(scratch.root);
  server = await startServer(scratch, { args: ["--log-level", "debug"] });
});

async function runRecordsText(): Promise<string> {
  const files = (await readdir(scratch.codexHome, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  expect(files.length).toBeGreaterThan(0);
  return (await Promise.all(files.map((f) => readFile(path.join(f.parentPath, f.name), "utf8")))).join("\n");
}

describe("secrets a sub-agent prints or writes are redacted everywhere the server shows or keeps them", () => {
  test("prefixed names and token shapes in messages, commands, errors, stderr, the final message and the patch", async () => {
    countBadInput(PRINTED.length * 2);
    const token = newToken("redaction");
    const progress: string[] = [];
    const files = { "deploy/settings.yaml": `${PRINTED.join("\n")}\n`, "scripts/run.sh": `#!/bin/sh\n${PRINTED.map((p) => `echo ${p}`).join("\n")}\n` };
    const result: any = await server.client.callTool(
      { name: "delegate", arguments: fakeCall(scratch, token, { secrets: PRINTED, writeFiles: files }, { isolation: "worktree" }) },
      { onprogress: (p) => void progress.push(String(p.message ?? "")) },
    );
    const out = result.structuredContent;
    // The fake really printed and wrote them: their names and the masks are there, so this test can fail.
    expect(out.ok).toBe(true);
    expect(out.final_message).toContain("DB_PASSWORD=[REDACTED]");
    expect(out.final_message).toContain('client_secret: [REDACTED]');
    expect(out.stderr_tail).toContain("GITHUB_TOKEN=\"[REDACTED]\"");
    expect(out.patch).toContain("deploy/settings.yaml");
    expect(out.patch).toContain('"AWS_SECRET_ACCESS_KEY": "[REDACTED]"');
    expect(out.notes.join("\n")).toContain("[REDACTED]");
    // The used worktree (the sub-agent's files, under CODEX_HOME) is removed just after the result; the records are
    // read once it is gone, so what is searched is what the server keeps.
    await expectNoTempDirs(scratch);
    for (const [where, text] of [
      ["result", JSON.stringify(result)],
      ["progress", progress.join("\n")],
      ["server stderr", server.stderr()],
      ["run records", await runRecordsText()],
    ] as const) {
      expect(secretsIn(text, LOOKED_FOR, where)).toEqual([]);
    }
    await afterCase(server, token);
  }, 60_000);
});
