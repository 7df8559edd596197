/**
 * Which errors are refusals: their text is written for the user (it names the thing and the next step), as opposed
 * to a broken invariant. Tools return them as they are and the run table records them as they are, never as
 * "internal error … report this".
 */
import { AgentsDirError } from "./agents/registry.ts";
import { DelegateError } from "./delegate.ts";
import { PolicyError } from "./policy/roots.ts";
import { WorkspaceError } from "./workspace/types.ts";

export function isRefusal(error: unknown): error is Error {
  return error instanceof DelegateError || error instanceof PolicyError || error instanceof WorkspaceError || error instanceof AgentsDirError;
}
