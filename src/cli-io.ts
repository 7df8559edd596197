/**
 * Where a CLI command writes, and what keeps its text from driving the terminal. Only src/cli.ts binds these to the
 * real stdout/stderr.
 */
export interface CliIO {
  /** Text for stdout (a command's result). Never used in server mode. */
  out(text: string): void;
  /** Text for stderr (diagnostics, hints). */
  err(text: string): void;
}

/**
 * Security: text printed to a terminal must not carry escape sequences (they can rewrite the screen or, in some
 * terminals, the title and clipboard): a sub-agent's text, a file name it made, a path or agent name a refusal quotes.
 * Control characters other than newline and tab become "?".
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
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
