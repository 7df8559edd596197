// The ledger of in-place writers: the real cwd of every run that could write where it works (isolation "none" with a
// sandbox other than read-only), recorded by every server and `run` that shares this CODEX_HOME, before its codex
// starts, and never pruned.
//
// Security: such a sub-agent may write anything below its cwd, except what codex itself keeps read-only for that run
// (its own `<cwd>/.codex`). So something found later *strictly below* a recorded cwd (a repository's `.git`, a
// `.codex` configuration layer, an agents directory) may have been planted by a sub-agent, and no program the server
// starts (git, codex) may obey it. A place that lies below no recorded cwd was never within an in-place writer's reach:
// worktree and mirror runs write only in private copies, which are removed after the run. /tmp and $TMPDIR are the
// exception: every workspace-write sandbox may write them, whatever its cwd, so anything there counts as plantable.
//
// The file is `<work dir>/in-place-writers`: one JSON string (a real path) a line, appended with O_APPEND (one short
// write, so concurrent appenders never interleave; each after a newline, so a line torn by a crash cannot swallow it;
// blank lines are skipped), opened without following a link or blocking on a FIFO.
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { Refusal } from "../errors.ts";
import { isWithin } from "../policy/roots.ts";
import { readWholeRegularFile } from "../safe-fs.ts";

export const LEDGER_FILE = "in-place-writers";
/** Far above any real use (tens of thousands of distinct cwds); a larger file is refused, never read in part. */
const MAX_LEDGER_BYTES = 4 * 1024 * 1024;

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

export interface WriterLedger {
  /** Record that an in-place writer is about to work in `cwd` (a real path). Resolves once it is on disk. */
  add(cwd: string): Promise<void>;
  /** Every cwd recorded so far, by any process on this CODEX_HOME. */
  cwds(): Promise<readonly string[]>;
}

/** The ledger kept in the private work directory `workDir` (which the caller has checked: ours, mode 700). */
export function createWriterLedger(workDir: string): WriterLedger {
  const file = path.join(workDir, LEDGER_FILE);
  const unusable = (why: string) =>
    new Refusal(`the in-place writers ledger "${file}" ${why}`, {
      hint: `remove that file only if no sub-agent ever ran with isolation "none" and a writable sandbox on this CODEX_HOME; otherwise restore it`,
    });
  const cwds = async (): Promise<readonly string[]> => {
    const exists = await readWholeRegularFile(file, MAX_LEDGER_BYTES);
    if (exists === null) {
      const missing = await open(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK).then(
        async (handle) => (await handle.close(), false),
        (error: NodeJS.ErrnoException) => error.code === "ENOENT",
      );
      // Fail closed: a ledger that is there but cannot be read would hide every planted place.
      if (!missing) throw unusable(`cannot be read (not a regular file, or over ${MAX_LEDGER_BYTES} bytes)`);
      return [];
    }
    return parseLedger(exists.toString("utf8"));
  };
  return {
    cwds,
    add: async (cwd) => {
      if ((await cwds()).includes(cwd)) return;
      let handle;
      try {
        handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
      } catch (error) {
        throw unusable(`cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), so this in-place writer cannot be recorded; nothing ran`);
      }
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw unusable("is not a regular file; nothing ran");
        // Security: the leading newline ends a line a process killed mid-append left unfinished, which would otherwise
        // swallow this one (the two would make one line that is no path, and this writer would not be on record); and a
        // short write (a full disk) refuses the run rather than leave this writer off the record.
        const line = Buffer.from(`\n${JSON.stringify(cwd)}\n`, "utf8");
        const { bytesWritten } = await handle.write(line);
        if (bytesWritten !== line.length) throw unusable(`could not be written whole (${bytesWritten} of ${line.length} bytes), so this in-place writer is not on record; nothing ran`);
      } finally {
        await handle.close().catch(() => {});
      }
    },
  };
}

/** The ledger's lines as paths; a line that is not a JSON string (a torn write) is skipped, never guessed at. */
export function parseLedger(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "string" && path.isAbsolute(value)) out.add(value);
    } catch {
      // skipped
    }
  }
  return [...out];
}

/**
 * Why something kept in directory `holder` (for example `holder/.git` or `holder/.codex`) may have been planted by a
 * sub-agent, or null. Pure: `holder` lies strictly below a recorded writer cwd (the writer's own cwd is not enough:
 * codex keeps `<cwd>/.codex` and `<cwd>/.git` read-only for its run, measured with codex 0.169 and 0.171), or anywhere
 * in /tmp or $TMPDIR (given as real paths). `writerCwdItself`: a place codex does not keep read-only for the writer
 * (anything but those two), where the writer's own cwd counts too.
 */
export function plantableIn(holder: string, writers: readonly string[], tmpDirs: readonly string[], options: { writerCwdItself?: boolean } = {}): string | null {
  for (const writer of writers) {
    if ((holder !== writer || options.writerCwdItself) && isWithin(holder, writer)) return `it lies ${holder === writer ? "in" : "below"} "${writer}", where a sub-agent once worked with a sandbox that can write in place`;
  }
  for (const tmp of tmpDirs) {
    if (isWithin(holder, tmp)) return `it lies in "${tmp}", which every workspace-write sub-agent may write`;
  }
  return null;
}
