import { printable } from "./escape.ts";
import type { Redactor } from "./policy/redact.ts";

export type LogLevel = "error" | "warn" | "info" | "debug";
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/**
 * The stderr-only logger. Stdout is the MCP channel: nothing here may touch it.
 * Every line passes through the redactor, so a secret that reaches a log message is still masked, and is one printable
 * line: a log quotes agent files and codex's words, and a log viewer renders escape sequences.
 */
export function createLogger(options: {
  level: LogLevel;
  redact: Redactor;
  write?: (line: string) => void;
}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const emit = (level: LogLevel, message: string) => {
    if (LOG_LEVELS.indexOf(level) > threshold) return;
    const oneLine = printable(options.redact(message).replace(/\r?\n/g, "\\n"));
    write(`codex-subagents: ${level}: ${oneLine}\n`);
  };
  return {
    error: (m) => emit("error", m),
    warn: (m) => emit("warn", m),
    info: (m) => emit("info", m),
    debug: (m) => emit("debug", m),
  };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
