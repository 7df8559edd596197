/**
 * How deep this server sits in a chain of sub-agents. Our codex child gets CODEX_SUBAGENTS_DEPTH = depth + 1, but
 * codex starts MCP servers with a reduced environment, so a nested server may not see that variable directly.
 * Security: on Linux we also look at our ancestors' environments (the sub-agent's codex carries the variable), so
 * nesting past --max-depth is refused even when the user's codex config does not forward the variable.
 */
import { readFile } from "node:fs/promises";
import { DEPTH_VARIABLE } from "./env.ts";

/** A garbled value counts as "already deep", never as zero. */
export function parseDepth(raw: string | undefined): number | null {
  if (raw === undefined || raw === "") return null;
  const depth = Number(raw);
  return Number.isInteger(depth) && depth >= 0 ? depth : Number.MAX_SAFE_INTEGER;
}

export function depthFromEnviron(environ: string): number | null {
  for (const entry of environ.split("\0")) {
    if (entry.startsWith(`${DEPTH_VARIABLE}=`)) return parseDepth(entry.slice(DEPTH_VARIABLE.length + 1));
  }
  return null;
}

export async function detectDepth(
  env: Readonly<Record<string, string | undefined>>,
  opts: { platform?: string; ppid?: number; readProc?: (file: string) => Promise<string> } = {},
): Promise<number> {
  const own = parseDepth(env[DEPTH_VARIABLE]);
  if (own !== null) return own;
  if ((opts.platform ?? process.platform) !== "linux") return 0;
  const read = opts.readProc ?? ((file: string) => readFile(file, "utf8"));
  let pid = opts.ppid ?? process.ppid;
  for (let hops = 0; hops < 32 && pid > 1; hops++) {
    const environ = await read(`/proc/${pid}/environ`).catch(() => null);
    const found = environ === null ? null : depthFromEnviron(environ);
    if (found !== null) return found;
    const status = await read(`/proc/${pid}/status`).catch(() => null);
    const parent = status ? /^PPid:\s+(\d+)/m.exec(status)?.[1] : undefined;
    if (!parent) break;
    pid = Number(parent);
  }
  return 0;
}
