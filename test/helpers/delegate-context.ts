// A DelegateContext for in-process tests, built by the same function serve and run use (src/delegation/context.ts),
// from the server options a user would give: one root, a fake codex path, a time limit of 60 s, one slot, no run
// records. Its CODEX_HOME (so the private work directory and the writers ledger) is `<root>-work`, beside the root,
// so a test leaves nothing in the user's ~/.codex. A test overrides a field with an explicit value, a no-op included
// (NO_SPARES, src/workspace/spares-interface.ts, is the one a one-off run gets).
import { afterAll, beforeAll } from "bun:test";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EMBEDDED_AGENTS } from "../../src/agents/embedded.ts";
import { loadRegistry } from "../../src/agents/registry.ts";
import { resolveServerOptions } from "../../src/config.ts";
import type { DelegateContext } from "../../src/delegation/context.ts";
import { buildDelegateContext } from "../../src/delegation/context.ts";
import { silentLogger } from "../../src/log.ts";

/** The embedded starter agents as a registry. */
export const starterRegistry = () => loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, EMBEDDED_AGENTS);

/** `codexHome`: where the private work directory and the writers ledger live (default `<root>-work`). */
export async function testContext(root: string, overrides: Partial<DelegateContext> = {}, opts: { codexHome?: string } = {}): Promise<DelegateContext> {
  const given = new Map([
    ["--root", [root]],
    ["--codex", ["/nonexistent/codex"]],
    ["--timeout", ["60"]],
    ["--max-concurrency", ["1"]],
    ["--keep-runs", ["0"]],
  ]);
  const env = { CODEX_HOME: opts.codexHome ?? `${root}-work`, PATH: process.env.PATH, CODEX_SUBAGENTS_DEPTH: "0" };
  const options = resolveServerOptions({ values: given }, env, root);
  const { context } = await buildDelegateContext(options, { env, cwd: root, writeLog: () => {} }, "one-run");
  return { ...context, registry: starterRegistry, parentEnv: {}, log: silentLogger, ...overrides };
}

/** A registry with no agents: every call is ad-hoc. */
export const noAgents = () => loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, []);

/**
 * For a file of plan tests: a scratch root with a `sub` directory, made before the file's tests and removed after
 * them, and `context()`, a context on it with no agents (every call here is ad-hoc) and a longer server time limit.
 */
export function useAdHocRoot(): { root: () => string; context: (over?: Partial<DelegateContext>) => Promise<DelegateContext> } {
  let root = "";
  beforeAll(async () => {
    root = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-plan-")));
    await mkdir(path.join(root, "sub"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return {
    root: () => root,
    context: (over = {}) => testContext(root, { registry: noAgents, maxTimeoutS: 600, ...over }),
  };
}
