// Who holds something on disk that outlives a crash (a tree-lock claim, a run record's server.json): a process on this
// machine, named so that another process can tell whether it still runs. A pid alone is not enough: after the owner
// died the pid may be given to another process, so on Linux the owner is also named by its start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot) and the boot it started in (/proc/sys/kernel/random/boot_id). Elsewhere
// only the pid is known, and a pid used again keeps a dead owner's things until that process ends too: slower to
// recover, never less safe.
import { readFileSync } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import { hostname } from "node:os";
import { once } from "../once.ts";

export interface Owner {
  pid: number;
  host: string;
  /** Linux: the boot the process started in. */
  boot?: string;
  /** Linux: the process's start time, in clock ticks since boot. */
  start?: string;
  /**
   * Linux: its pid namespace (`pid:[inode]`). A process in another one (a container or sandbox on this machine, under
   * the same host name) has pids this process cannot see, so its things are judged as another machine's are.
   */
  ns?: string;
}

async function procText(file: string): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  return readFile(file, "utf8").then((text) => text.trim(), () => undefined);
}

/** Field 22 (starttime) of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
async function startTimeOf(pid: number | "self"): Promise<string | undefined> {
  const stat = await procText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/**
 * This machine's name. Deno refuses `os.hostname()` without --allow-sys, which the documented `deno run` line does not
 * give; Linux says the same in /proc (readable with --allow-read). When neither answers, every process of this program
 * that cannot tell says "unknown": it then takes the others' claims for another machine's and honours them, never
 * removes one by mistake.
 */
export const thisHost = once((): string => {
  try {
    return hostname();
  } catch {
    try {
      return readFileSync("/proc/sys/kernel/hostname", "utf8").trim() || "unknown";
    } catch {
      return "unknown";
    }
  }
});

/** This process, as other processes will check it. */
export const currentOwner = once(async (): Promise<Owner> => {
  const [boot, start, ns] = await Promise.all([
    procText("/proc/sys/kernel/random/boot_id"),
    startTimeOf("self"),
    process.platform === "linux" ? readlink("/proc/self/ns/pid").catch(() => undefined) : undefined,
  ]);
  return { pid: process.pid, host: thisHost(), ...(boot ? { boot } : {}), ...(start ? { start } : {}), ...(ns ? { ns } : {}) };
});

function isOwner(value: unknown): value is Owner {
  const v = value as Partial<Owner> | null;
  return typeof v === "object" && v !== null && Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === "string"
    && (v.boot === undefined || typeof v.boot === "string") && (v.start === undefined || typeof v.start === "string")
    && (v.ns === undefined || typeof v.ns === "string");
}

/**
 * True only when `owner` is known to have ended: it ran on this machine and no process has its pid, or the process
 * that has it now started later (another boot, another start time). False when it may still run: alive, on another
 * machine or in another pid namespace (whose processes cannot be seen from here), or not an owner record at all.
 */
export async function ownerGone(owner: unknown): Promise<boolean> {
  if (!isOwner(owner) || owner.host !== thisHost()) return false;
  const me = await currentOwner();
  if (owner.boot !== undefined && me.boot !== undefined && owner.boot !== me.boot) return true;
  // Security: a pid of another pid namespace names some other process here (or none): never judged from here.
  if (owner.ns !== undefined && me.ns !== undefined && owner.ns !== me.ns) return false;
  if (owner.pid === process.pid) return owner.start !== undefined && me.start !== undefined && owner.start !== me.start;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: a process of another user has the pid now; whether it is the owner is decided by its start time.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
  }
  if (owner.start === undefined) return false;
  const now = await startTimeOf(owner.pid);
  return now !== undefined && now !== owner.start;
}
