import { printable } from "./escape.ts";

/**
 * Where a CLI command writes, and the wrappers that make its streams printable. Only src/cli.ts binds these to the
 * real stdout/stderr.
 */
export interface CliIO {
  /** Text for stdout (a command's result). Never used in server mode. */
  out(text: string): void;
  /** Text for stderr (diagnostics, hints). */
  err(text: string): void;
}

/**
 * Security: stderr made printable, terminal or not (a CI log viewer renders escape sequences too). Every command but
 * `run` gets its stderr this way from src/cli.ts; `run` wraps its own, since its progress line alone writes control
 * sequences (to redraw itself).
 */
export function diagnosticIO(io: CliIO): CliIO {
  return { out: io.out, err: (text) => io.err(printable(text)) };
}

/** Both streams made printable: for a command whose stdout is only human lines that quote paths (`convert`). */
export function printableIO(io: CliIO): CliIO {
  return { out: (text) => io.out(printable(text)), err: (text) => io.err(printable(text)) };
}
