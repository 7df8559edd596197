/**
 * The starter agents, compiled into the executable: the registry of last resort when no agents directory exists.
 * Text imports keep them byte-identical to agents/*.md, which CI validates with the built executable.
 */
import debugger_ from "../../agents/debugger.md" with { type: "text" };
import docs from "../../agents/docs.md" with { type: "text" };
import explain from "../../agents/explain.md" with { type: "text" };
import review from "../../agents/review.md" with { type: "text" };
import security from "../../agents/security.md" with { type: "text" };
import test from "../../agents/test.md" with { type: "text" };
import type { EmbeddedAgentFile } from "./registry.ts";

export const EMBEDDED_AGENTS: readonly EmbeddedAgentFile[] = [
  { file: "debugger.md", text: debugger_ },
  { file: "docs.md", text: docs },
  { file: "explain.md", text: explain },
  { file: "review.md", text: review },
  { file: "security.md", text: security },
  { file: "test.md", text: test },
];
