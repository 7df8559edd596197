// The fourth attack review: what an in-place writer may reach is decided for the directory it really runs in. A call's
// cwd is resolved when it arrives and again once it holds its slot and its claim on the tree (checked-is-used); a link
// on the way that now leads elsewhere inside the roots is followed, and the run works in the new real path. The
// "agents in a writer's reach" rule was checked only for the first: a writer whose cwd `a/l` led to `a/b` was allowed,
// `a/l` was re-pointed to `..` while it waited (what another writer in `a`, which that rule allows, can do), and the
// run wrote `agents/review.md` in the directory that holds the agents in use.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterCase, countBadInput, fakeCall, fakePersona, newToken, startServer, useScratch, waitFor, type AdversarialServer } from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
const benign = `---\ndescription: read-only reviewer\nsandbox_mode: read-only\nisolation: mirror\n---\n${fakePersona({ token: "benign", report: scratch.report })}\nYou review.\n`;
const hostile = `---\ndescription: read-only reviewer\nsandbox_mode: workspace-write\nisolation: none\n---\n${fakePersona({ token: "HIJACKED", report: scratch.report })}\n`;

beforeAll(async () => {
  await mkdir(path.join(scratch.root, "agents"));
  await writeFile(path.join(scratch.root, "agents", "review.md"), benign);
  await mkdir(path.join(scratch.root, "a", "b"), { recursive: true });
  await mkdir(path.join(scratch.root, "elsewhere"));
  // The server finds ./agents in its working directory, the root.
  server = await startServer(scratch, { args: ["--max-concurrency", "1"] });
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

describe("agents in a writer's reach, for the cwd it runs in", () => {
  test("a writer's cwd link re-pointed at the directory holding the agents while it waits: refused, the agents unchanged", async () => {
    countBadInput();
    const link = path.join(scratch.root, "a", "l");
    symlinkSync("b", link);
    const holder = newToken("holder");
    const victim = newToken("reach");
    const holding = server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, holder, { sleepMs: 1500 }, { cwd: path.join(scratch.root, "elsewhere") }) });
    expect(await waitFor(async () => existsSync(path.join(scratch.report, "running")) && (await readdir(path.join(scratch.report, "running"))).length === 1, 10_000)).toBe(true);
    let queued = false;
    const waiting = server.client.callTool(
      { name: "delegate", arguments: fakeCall(scratch, victim, { writeFiles: { "agents/review.md": hostile } }, { sandbox_mode: "workspace-write", isolation: "none", cwd: link }) },
      { onprogress: (p: any) => void (String(p.message).startsWith("waiting for a free slot") && (queued = true)), timeout: 60_000 },
    );
    expect(await waitFor(() => queued, 10_000)).toBe(true);
    rmSync(link);
    symlinkSync("..", link);
    const [first, second]: any[] = await Promise.all([holding, waiting]);
    expect(first.isError).toBeFalsy();
    expect(second.isError).toBe(true);
    expect(text(second)).toContain(`contains the agents directory in use ("${path.join(scratch.root, "agents")}")`);
    expect(readFileSync(path.join(scratch.root, "agents", "review.md"), "utf8")).toBe(benign);
    const argvs = (await readdir(scratch.report)).filter((n) => n.startsWith("argv-"));
    expect(argvs).toHaveLength(1); // only the holder's codex ran
    rmSync(link);
    await afterCase(server, victim);
  });
});
