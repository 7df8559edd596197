/** The run record of one delegation (issue 4 fills in storage, listing and pruning). */
export interface RunRecorder {
  /** The record's directory, returned to the caller as run_dir. */
  dir: string;
  /** One stdout line of codex (an event), not yet redacted. */
  event(line: string): void;
  finish(parts: { result: unknown; stderr: string; patch?: string; finalMessage: string }): Promise<void>;
}
