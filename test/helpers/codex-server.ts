// The end of a suite that started a server over a codex mock: what afterAll does in every such file, in one order.
import { rm } from "node:fs/promises";

interface Closable {
  close(): Promise<unknown>;
}

interface CleanedUp {
  cleanup(): Promise<unknown>;
}

/**
 * Closes the server first (so no codex still talks to the mock), then the mock, then removes the CODEX_HOME and
 * the scratch directories. Each part may be unset: a beforeAll that failed half-way leaves some of them undefined.
 */
export async function closeServerWorld(
  parts: { server?: Closable; mock?: Closable; home?: CleanedUp },
  ...dirs: Array<string | undefined>
): Promise<void> {
  await parts.server?.close();
  await parts.mock?.close();
  await parts.home?.cleanup();
  for (const dir of dirs) if (dir) await rm(dir, { recursive: true, force: true });
}
