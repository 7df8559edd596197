/**
 * Run ids: the name of the run's record directory, minted before the run is queued.
 *
 * Security: a run id is a capability. Whoever holds it can read the run's result (task output, patch) and cancel it,
 * so it carries 128 random bits and cannot be guessed from the time and agent name it also shows. Names of records
 * made before run ids (6 random hex) are never accepted as ids.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { runDirName } from "./record.ts";

export const RUN_ID_PATTERN = /^\d{8}T\d{6}\.\d{3}Z-[a-z0-9][a-z0-9_-]{0,63}-[0-9a-f]{32}$/;

export function mintRunId(agent: string, startedAt: Date = new Date()): string {
  return runDirName(agent, startedAt, randomBytes(16).toString("hex"));
}

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}

/**
 * A run named by its id or by its record directory (a result's `run_dir`, `<runs dir>/<run id>`): the id, and the runs
 * directory when a directory was given. Pure; a word with no path separator is an id as it is.
 */
export function runReference(given: string, cwd: string): { id: string; runsDir?: string } {
  if (!given.includes("/") && !given.includes(path.sep)) return { id: given };
  const dir = path.resolve(cwd, given);
  return { id: path.basename(dir), runsDir: path.dirname(dir) };
}
