// The cwd-swap attack, shared by cwd-swap-race.test.ts (one server) and cwd-swap-processes.test.ts (two servers on
// one CODEX_HOME). The attacker is a sandboxed sub-agent: a workspace-write run with isolation "none" in the root that
// keeps swapping `sub` for a symlink to a directory outside the roots and back, while other calls start in `sub`. Any
// of those calls that ran in the link's target would write its marker there.
import { expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel, type OutputItem } from "../helpers/mock-model.ts";

export interface SwapWorld {
  /** The scratch directory out of every sandbox's reach; the servers start here, beside the root. */
  parent: string;
  /** Outside the roots: a marker here is a call that ran where the link pointed. */
  outside: string;
  home: CodexHome;
  mock: MockModel;
  root: string;
  /** The directory the writer swaps, and the other calls' cwd. */
  sub: string;
  /** The servers' TMPDIR, inside the scratch. */
  tmpDir: string;
}

/** The hostile writer's call: it runs in the root, writing in place, in the background. */
export const SWAP_WRITER_CALL = { agent: "swapper", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "SWAP-IT", isolation: "none", background: true } as const;

/** A call in `sub` that writes a marker in its cwd, in the background. */
export function callInSub(sub: string) {
  return { agent: "w", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "go", cwd: sub, background: true } as const;
}

/** The hostile writer's command: swap sub for a symlink to `outside` and back, for `seconds`. */
export function swapCommand(outside: string, seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); while [ "$(date +%s)" -lt "$end" ]; do mv sub sub.real && ln -s "${outside}" sub; sleep 0.0$(( RANDOM % 3 )); rm sub && mv sub.real sub; sleep 0.0$(( RANDOM % 3 )); done; echo SWAPPED`;
}

/**
 * The scratch (out of every sandbox's reach wherever the clone lives: a sandbox may write /tmp and $TMPDIR), the mock
 * model and a CODEX_HOME. The model answers the writer's task with `writerTurn(outputs seen)`, until that is null; a
 * call that has seen a command's output with "done"; any other call with one command that writes a marker in its cwd.
 */
export async function makeSwapWorld(prefix: string, writerTurn: (outputsSeen: number, outside: string) => OutputItem[] | null): Promise<SwapWorld> {
  const [parent] = await privateScratchWithDirs(prefix);
  const outside = path.join(parent, "outside");
  await mkdir(outside);
  let markers = 0;
  const mock = await startMockModel((req) => {
    const user = JSON.stringify(req.body?.input ?? "");
    const done = functionCallOutputs(req.body).length;
    const turn = user.includes("SWAP-IT") ? writerTurn(done, outside) : null;
    if (turn) return turn;
    if (done > 0) return [assistantMessage("done")];
    return [functionCall({ name: "exec_command", args: { cmd: `echo x > ./marker-${++markers}; pwd -P` }, callId: "c1" })];
  });
  const home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
  const root = path.join(parent, "project");
  const sub = path.join(root, "sub");
  await mkdir(sub, { recursive: true });
  const tmpDir = path.join(parent, "tmp");
  await mkdir(tmpDir);
  return { parent, outside, home, mock, root, sub, tmpDir };
}

/**
 * Once the writer had ended, each call in `sub` ran in the restored directory. One accepted while the writer ran may
 * still have been refused when it checked its cwd again before it queued for the tree (the path named nothing, or
 * something outside the roots, at that moment): refused, nothing ran. At least one ran.
 */
export function expectRanInSubOrRefused(views: readonly any[], sub: string): void {
  for (const view of views) {
    if (view.status === "succeeded") expect(view.working_dir).toBe(sub);
    else {
      expect(view.exit_code).toBeNull();
      expect(view.notes.join(" ")).toMatch(/^cwd "/);
    }
  }
  expect(views.filter((view) => view.status === "succeeded").length).toBeGreaterThan(0);
}
