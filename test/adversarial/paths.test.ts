// Only allowed directories: `cwd` and `validate_agents { dir }` must lie inside a --root after realpath, and agent
// files (and their personaFile) cannot leave the agents directory. Every refusal is an isError result that names the
// value and the roots, and no codex is started for it.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, countBadInput, fakeCall, newToken, startServer, useScratch, type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
let outside: string;
let agentsDir: string;
const OUTSIDE_SECRET = "OUTSIDE-SECRET-PERSONA-8121";

beforeAll(async () => {
  const { base, root } = scratch;
  outside = path.join(base, "outside");
  await mkdir(path.join(outside, "sub"), { recursive: true });
  await writeFile(path.join(outside, "secret.md"), `${OUTSIDE_SECRET}\n`);
  await mkdir(path.join(base, "repo-evil")); // sibling whose name starts with the root's
  await mkdir(path.join(root, "sub"));
  await writeFile(path.join(root, "file.txt"), "not a directory\n");
  await symlink(outside, path.join(root, "link-out"));
  await symlink(path.join(base, "nowhere"), path.join(root, "dangling"));
  await symlink(path.join(root, "sub"), path.join(root, "link-in"));

  // The agents directory, outside the root, with files that try to reach out of it.
  agentsDir = path.join(base, "agents");
  await mkdir(agentsDir);
  await writeFile(path.join(agentsDir, "good.md"), "---\ndescription: a fine agent\n---\nYou are fine.\n");
  await writeFile(path.join(agentsDir, "escape-dotdot.json"), JSON.stringify({ personaFile: "../outside/secret.md" }));
  await writeFile(path.join(agentsDir, "escape-absolute.json"), JSON.stringify({ personaFile: path.join(outside, "secret.md") }));
  await symlink(path.join(outside, "secret.md"), path.join(agentsDir, "persona-link.txt"));
  await writeFile(path.join(agentsDir, "escape-link.json"), JSON.stringify({ personaFile: "persona-link.txt" }));
  await writeFile(path.join(agentsDir, "escape-nul.json"), JSON.stringify({ personaFile: "good.md\u0000x" }));
  await symlink(path.join(outside, "secret.md"), path.join(agentsDir, "linked-out.md"));
  await symlink(path.join(base, "nowhere.md"), path.join(agentsDir, "dangling.md"));
  // A FIFO named like an agent: opening it for reading would block a careless server for ever.
  spawnSync("mkfifo", [path.join(agentsDir, "fifo.md")]);

  server = await startServer(scratch, { args: ["--agents-dir", agentsDir] });
});

async function call(name: string, args: Record<string, unknown>): Promise<any> {
  return server.client.callTool({ name, arguments: args });
}

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

/** A refusal: isError, the message names the root, and no codex ran. */
async function expectRefused(result: any, ...mentions: string[]): Promise<void> {
  expect(result.isError).toBe(true);
  for (const m of mentions) expect(text(result)).toContain(m);
  expect((await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))).toEqual([]);
}

describe("cwd must stay inside a root", () => {
  const cases: Array<[string, () => string]> = [
    ["sibling with the root as a name prefix (/repo-evil next to /repo)", () => path.join(scratch.base, "repo-evil")],
    ["`..` climbing out of the root", () => `${scratch.root}/../outside`],
    ["`..` that climbs out and back into a sibling", () => `${scratch.root}/sub/../../repo-evil`],
    ["symlink inside the root pointing out", () => path.join(scratch.root, "link-out")],
    ["directory below a symlinked parent that points out", () => path.join(scratch.root, "link-out", "sub")],
    ["dangling symlink", () => path.join(scratch.root, "dangling")],
    ["NUL byte", () => `${scratch.root}/sub\u0000/etc`],
    ["relative path", () => "repo/sub"],
    ["relative `.`", () => "."],
    ["a file instead of a directory", () => path.join(scratch.root, "file.txt")],
    ["filesystem root", () => "/"],
    ["empty string", () => ""],
  ];
  for (const [attack, cwd] of cases) {
    test(`refused: ${attack}`, async () => {
      countBadInput();
      const token = newToken("cwd");
      const result = await call("delegate", fakeCall(scratch, token, {}, { cwd: cwd() }));
      await expectRefused(result, scratch.root, "--root");
      await afterCase(server, token);
    });
  }

  test("allowed: a subdirectory, and a symlink that stays inside (so the refusals above are not blanket)", async () => {
    for (const cwd of [path.join(scratch.root, "sub"), path.join(scratch.root, "link-in"), `${scratch.root}/sub/..`]) {
      const token = newToken("cwd-ok");
      const result: any = await call("delegate", fakeCall(scratch, token, {}, { cwd }));
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.working_dir).toBe(cwd.endsWith("..") ? scratch.root : path.join(scratch.root, "sub"));
      await afterCase(server, token);
    }
  });
});

describe("validate_agents { dir } obeys the same rule", () => {
  const cases: Array<[string, () => string]> = [
    ["a directory outside every root", () => outside],
    ["sibling prefix", () => path.join(scratch.base, "repo-evil")],
    ["symlink out of the root", () => path.join(scratch.root, "link-out")],
    ["`..` out of the root", () => `${scratch.root}/..`],
    ["relative path", () => "agents"],
    ["NUL byte", () => `${agentsDir}\u0000`],
    ["/etc", () => "/etc"],
  ];
  for (const [attack, dir] of cases) {
    test(`refused: ${attack}`, async () => {
      countBadInput();
      const result = await call("validate_agents", { dir: dir() });
      await expectRefused(result, scratch.root);
      expect(text(result)).not.toContain(OUTSIDE_SECRET);
      await afterCase(server);
    });
  }

  test("allowed: the server's own agents directory, and a directory inside a root", async () => {
    expect((await call("validate_agents", { dir: agentsDir })).isError).toBeFalsy();
    expect((await call("validate_agents", { dir: path.join(scratch.root, "sub") })).isError).toBeFalsy();
    await afterCase(server);
  });
});

describe("agent files cannot leave the agents directory", () => {
  test("personaFile escapes (.., absolute, symlink, NUL) and agent files symlinked out are errors, and their target is never read", async () => {
    countBadInput(7);
    const report: any = (await call("validate_agents", {})).structuredContent;
    const byAgent = new Map<string, any>(report.files.map((f: any) => [f.agent, f]));
    for (const name of ["escape-dotdot", "escape-absolute", "escape-link", "escape-nul", "linked-out", "dangling", "fifo"]) {
      const entry = byAgent.get(name);
      expect(entry, name).toBeDefined();
      expect(entry.ok, name).toBe(false);
    }
    expect(byAgent.get("good").ok).toBe(true);
    expect(byAgent.get("escape-dotdot").issues.map((i: any) => i.code)).toContain("PERSONA_FILE");
    expect(byAgent.get("linked-out").issues.map((i: any) => i.code)).toContain("UNSAFE_FILE");
    expect(JSON.stringify(report)).not.toContain(OUTSIDE_SECRET);
    await afterCase(server);
  });

  test("delegating to an agent with such an error is refused and names the file", async () => {
    for (const name of ["escape-dotdot", "escape-link", "linked-out"]) {
      countBadInput();
      const token = newToken("agent-escape");
      const result = await call("delegate", { agent: name, task: `token ${token}` });
      await expectRefused(result, name, "validate");
      expect(text(result)).not.toContain(OUTSIDE_SECRET);
      await afterCase(server, token);
    }
  });

  test("an agent name that is a path is not a file lookup", async () => {
    for (const agent of ["../outside/secret", "../../etc/passwd", "/etc/passwd", "good/../escape-link", "GOOD"]) {
      countBadInput(2);
      const token = newToken("agent-name");
      await expectRefused(await call("delegate", { agent, task: "hi" }), "unknown agent");
      // With a persona it would be an ad-hoc agent, but the name must still be a plain name.
      await expectRefused(await call("delegate", fakeCall(scratch, token, {}, { agent })), "must match");
      await afterCase(server, token);
    }
  });

  test("list_agents still answers with the bad files listed as not ok", async () => {
    const listed: any = (await call("list_agents", {})).structuredContent;
    expect(listed.agents.find((a: any) => a.name === "good").ok).toBe(true);
    expect(listed.agents.find((a: any) => a.name === "escape-link").ok).toBe(false);
    expect(JSON.stringify(listed)).not.toContain(OUTSIDE_SECRET);
    expect(existsSync(path.join(scratch.report, "pids"))).toBe(false);
    await afterCase(server);
  });
});
