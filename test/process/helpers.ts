// Shared by the tests of src/process: the fixture programs (test/fixtures/process), a token in every fixture's argv,
import { afterEach, expect } from "bun:test";
// and a /proc scan that finds what a run left behind by that token.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../helpers/paths.ts";

const FIXTURES = path.join(repoRoot, "test", "fixtures", "process");

/** The program that runs the fixtures: the runtime these tests run in (absolute). */
export const RUNTIME = process.execPath;

/** argv for a fixture: its path, its arguments, then the token that marks its processes. */
export function fixture(name: string, token: string, ...args: string[]): string[] {
  return [path.join(FIXTURES, `${name}.mjs`), ...args, token];
}

export function newToken(label: string): string {
  return `proc-${label}-${randomBytes(6).toString("hex")}`;
}

/** An environment with just enough to run the runtime. */
export function minimalEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
}

function state(pid: number): string | null {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is a live process (a zombie is dead: it only waits to be reaped). */
export function isAlive(pid: number): boolean {
  const s = state(pid);
  return s !== null && s !== "Z";
}

/** Live processes whose argv carries `token`. */
export function processesWith(token: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.includes(token) && isAlive(Number(entry))) found.push(Number(entry));
  }
  return found;
}

/** Every number after "pid " or "grandchild " in a fixture's output lines. */
export function pidsIn(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = /^(?:pid|grandchild) (\d+)$/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

/** Kill whatever a failed case left (so one failure does not poison the next); returns how many there were. */
export function killLeftovers(token: string): number {
  const left = processesWith(token);
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  return left.length;
}

export async function waitFor(condition: () => boolean, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * What is still alive of `pids` and of the processes carrying `token`, after waiting up to `withinMs` for them to go.
 * The wait covers the kernel's own exit: a SIGKILLed process has closed its pipes (so the result came) a moment before
 * it stops being "running".
 */
export async function leftAfter(pids: readonly number[], token: string, withinMs = 1000): Promise<number[]> {
  const left = () => [...new Set([...pids.filter(isAlive), ...processesWith(token)])];
  await waitFor(() => left().length === 0, withinMs);
  return left();
}

/**
 * A token maker for one test file: every token it hands out is checked after each test, and what carries it is
 * killed, so a failure shows as a leak here instead of poisoning the next test.
 */
export function useTokens(): (label: string) => string {
  const tokens: string[] = [];
  afterEach(() => {
    expect(tokens.splice(0).reduce((n, t) => n + killLeftovers(t), 0)).toBe(0);
  });
  return (label) => {
    const t = newToken(label);
    tokens.push(t);
    return t;
  };
}
