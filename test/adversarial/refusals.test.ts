// Errors that say what they are. A user or environment error is never "internal error … report
// this": each is a refusal (isError) that names the thing and the next step. And `list` / `validate` print control
// characters from file names and descriptions escaped, never raw to the terminal.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { serverCommand } from "../helpers/server-command.ts";
import {
  afterCase, caseOnServer, countBadInput, fakeCall, newToken, serverEnv, startServer, useScratch, withFreshScratch,
  type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
let agentsDir: string;
let outside: string;

beforeAll(async () => {
  outside = path.join(scratch.base, "outside");
  await mkdir(outside);
  agentsDir = path.join(scratch.base, "agents");
  await mkdir(agentsDir);
  await writeFile(path.join(agentsDir, "good.md"), "---\ndescription: a fine agent\n---\nYou are fine.\n");
  server = await startServer(scratch, { args: ["--agents-dir", agentsDir] });
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

/** What the user sees for a refusal: isError, no "internal error", the named mentions, and no codex started. */
async function expectRefusal(result: any, ...mentions: string[]): Promise<void> {
  expect(result.isError).toBe(true);
  expect(text(result)).not.toContain("internal error");
  expect(text(result)).not.toContain("report this");
  for (const mention of mentions) expect(text(result)).toContain(mention);
  expect((await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))).toEqual([]);
}

function nested(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < depth; i++) schema = { type: "object", properties: { a: schema } };
  return schema;
}

describe("refusals reach the user as refusals, not as internal errors", () => {
  test("a cwd outside the roots (the roots check was once wrapped as an internal error)", async () => {
    countBadInput();
    const token = newToken("outside");
    await expectRefusal(await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { cwd: outside }) }), "outside the allowed roots", scratch.root, "--root");
    await afterCase(server, token);
  });

  test("validate_agents with a dir outside the roots", async () => {
    countBadInput();
    await expectRefusal(await server.client.callTool({ name: "validate_agents", arguments: { dir: outside } }), "outside the allowed roots", "--root");
    await afterCase(server);
  });

  test("an output_schema nested too deep, or too large, names the limits", async () => {
    countBadInput(2);
    const token = newToken("schema");
    await expectRefusal(await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { output_schema: nested(200) }) }), "output_schema", "64 levels", "256 KiB");
    const wide = { type: "object", description: "x".repeat(300 * 1024) };
    await expectRefusal(await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { output_schema: wide }) }), "output_schema", "256 KiB");
    // Within the limits it is accepted (the refusal is not blanket).
    const fine: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, newToken("schema-ok"), { final: '{"a":"b"}' }, { output_schema: nested(10) }) });
    expect(fine.isError).toBeFalsy();
    expect(fine.structuredContent.structured).toEqual({ a: "b" });
    await afterCase(server, token);
  });

  test("an agents directory deleted while the server runs: delegate, list_agents and validate_agents say so", async () => {
    countBadInput(3);
    await rename(agentsDir, `${agentsDir}.gone`);
    try {
      const token = newToken("deleted-agents");
      const hint = "no longer exists";
      await expectRefusal(await server.client.callTool({ name: "delegate", arguments: { agent: "good", task: `t ${token}` } }), hint, agentsDir, "--agents-dir");
      await expectRefusal(await server.client.callTool({ name: "list_agents", arguments: {} }), hint);
      await expectRefusal(await server.client.callTool({ name: "validate_agents", arguments: {} }), hint);
      await afterCase(server, token);
    } finally {
      await rename(`${agentsDir}.gone`, agentsDir);
    }
  });

  test("a TMPDIR that does not exist", async () => {
    countBadInput();
    const token = newToken("tmpdir");
    await withFreshScratch(async (other) => {
      const missing = path.join(other.base, "no-such-tmp");
      await caseOnServer(other, { env: { TMPDIR: missing }, token }, async (s) => {
        const result: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(other, token) });
        expect(result.isError).toBe(true);
        expect(text(result)).toContain(`TMPDIR "${missing}"`);
        expect(text(result)).toContain("create it");
        expect(text(result)).not.toContain("internal error");
      });
    });
  });

  test("no git on PATH: worktree isolation is refused naming git, other isolations still work", async () => {
    countBadInput();
    const token = newToken("no-git");
    await withFreshScratch(async (other) => {
      // node only (the fake codex needs it), no git.
      const bin = path.join(other.base, "bin-without-git");
      await mkdir(bin);
      const node = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
      spawnSync("ln", ["-s", node, path.join(bin, "node")]);
      await caseOnServer(other, { env: { PATH: bin }, token }, async (s) => {
        const refused: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(other, token, {}, { isolation: "worktree" }) });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toContain('isolation "worktree" needs git');
        expect(text(refused)).toContain("install git");
        expect(text(refused)).not.toContain("internal error");
        const plain: any = await s.client.callTool({ name: "delegate", arguments: fakeCall(other, newToken("no-git-plain")) });
        expect(plain.isError).toBeFalsy();
      });
    });
  });
});

describe("list and validate print control characters escaped", () => {
  test("an ESC sequence in a description and in a file name reaches the terminal as text, in text and --json output (and convert's)", async () => {
    countBadInput(3);
    const dir = path.join(scratch.base, "hostile-agents");
    await mkdir(dir);
    // Sets the terminal title, clears the screen, and an RTL override that reorders what follows.
    await writeFile(path.join(dir, "shady.md"), "---\ndescription: \"ok\\u001b]0;pwned\\u0007\\u001b[2J\\u202e\\u009b\"\n---\nYou are shady.\n");
    await writeFile(path.join(dir, "bad\u001b[31mname.md"), "---\nnot valid: [\n---\n");
    const { command, args } = serverCommand([]);
    const base = args.slice(0, args.indexOf("serve"));
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...serverEnv(scratch) };
    const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    for (const words of [["list", "--agents-dir", dir], ["list", "--json", "--agents-dir", dir], ["validate", dir], ["validate", "--json", dir]]) {
      const run = spawnSync(command, [...base, ...words], { cwd: scratch.root, env, encoding: "utf8", timeout: 20_000 });
      expect(run.stdout.length).toBeGreaterThan(0);
      expect(RAW.test(run.stdout)).toBe(false);
      expect(run.stdout).toContain("\\u001b");
      if (words.includes("--json")) JSON.parse(run.stdout);
    }
    // convert quotes the agent's name and the file it came from in its errors and in its result lines.
    await writeFile(path.join(dir, "titled.md"), "---\nname: \"A\\u001b]0;PWNED\\u0007\"\ndescription: d\n---\nYou are titled.\n");
    const converted = spawnSync(command, [...base, "convert", dir, "--out", path.join(scratch.base, "converted-hostile")], { cwd: scratch.root, env, encoding: "utf8", timeout: 20_000 });
    expect(converted.status).toBe(1);
    expect(converted.stderr).toContain("A?]0;PWNED?");
    expect(converted.stdout).toContain("wrote");
    expect(RAW.test(converted.stdout + converted.stderr.replace(/\n/g, ""))).toBe(false);
    const listed = spawnSync(command, [...base, "list", "--json", "--agents-dir", dir], { cwd: scratch.root, env, encoding: "utf8" });
    // Still the same data once parsed: escaping changed the bytes on the terminal, not the values.
    expect(JSON.parse(listed.stdout).agents.find((a: any) => a.name === "shady").description).toBe("ok\u001b]0;pwned\u0007\u001b[2J\u202e\u009b");
  });
});
