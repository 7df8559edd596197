/** Where a CLI command writes. Only src/cli.ts binds these to the real stdout/stderr. */
export interface CliIO {
  /** Text for stdout (a command's result). Never used in server mode. */
  out(text: string): void;
  /** Text for stderr (diagnostics, hints). */
  err(text: string): void;
}
