// A DelegateContext for in-process tests: the embedded starter agents, one root, a fake codex path and a private
// work directory beside the root (so a test leaves nothing in the user's ~/.codex).
import { EMBEDDED_AGENTS } from "../../src/agents/embedded.ts";
import { loadRegistry } from "../../src/agents/registry.ts";
import type { DelegateContext } from "../../src/delegate.ts";
import { Limiter } from "../../src/limiter.ts";
import { silentLogger } from "../../src/log.ts";
import { createRedactor } from "../../src/policy/redact.ts";
import { resolveRoots } from "../../src/policy/roots.ts";

/** The embedded starter agents as a registry. */
export const starterRegistry = () => loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, EMBEDDED_AGENTS);

export async function testContext(root: string, overrides: Partial<DelegateContext> = {}): Promise<DelegateContext> {
  return {
    registry: starterRegistry,
    roots: await resolveRoots([root], root),
    codexPath: "/nonexistent/codex",
    workDir: `${root}-work`,
    maxTimeoutS: 60,
    maxSandbox: "workspace-write",
    passEnv: [],
    depth: 0,
    maxDepth: 1,
    parentEnv: {},
    limiter: new Limiter(1),
    redact: createRedactor([]),
    log: silentLogger,
    ...overrides,
  };
}
