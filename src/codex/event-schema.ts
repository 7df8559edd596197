/**
 * Pure: one line of `codex exec --json` output → a typed event, by one schema that mirrors codex's own event enum
 * (codex-rs/exec/src/exec_events.rs: ThreadEvent and ThreadItemDetails). Unknown event and item types are not
 * errors: codex adds new ones, and a line this schema does not know is simply skipped (`null`). A known event with a
 * field of the wrong type is read with that field missing, never refused: progress and the result must not depend on
 * every field being what this version expects.
 */
import { z } from "zod";

const text = z.string().optional().catch(undefined);
/** Token counts: anything but a finite count reads as 0. */
const count = z.number().finite().nonnegative().catch(0);

const fileChangeSchema = z.looseObject({ path: text, kind: text });

export const codexItemSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("agent_message"), text }),
  z.looseObject({ type: z.literal("reasoning"), text }),
  z.looseObject({ type: z.literal("command_execution"), command: text, exit_code: z.number().optional().catch(undefined) }),
  z.looseObject({ type: z.literal("file_change"), changes: z.array(fileChangeSchema.nullable().catch(null)).catch([]) }),
  z.looseObject({ type: z.literal("mcp_tool_call"), server: text, tool: text }),
  z.looseObject({ type: z.literal("collab_tool_call") }),
  z.looseObject({ type: z.literal("web_search"), query: text }),
  z.looseObject({ type: z.literal("todo_list") }),
  z.looseObject({ type: z.literal("error"), message: text }),
]);
export type CodexItem = z.infer<typeof codexItemSchema>;

/** Older codex named the item's kind `item_type`; read it as `type`. */
function normalizeItem(item: unknown): unknown {
  if (!item || typeof item !== "object" || Array.isArray(item) || "type" in item) return item;
  return "item_type" in item ? { ...item, type: (item as { item_type: unknown }).item_type } : item;
}
const itemField = z.preprocess(normalizeItem, codexItemSchema);

export const codexUsageSchema = z.looseObject({
  input_tokens: count,
  cached_input_tokens: count,
  output_tokens: count,
  reasoning_output_tokens: count,
});

export const codexEventSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("thread.started"), thread_id: text }),
  z.looseObject({ type: z.literal("turn.started") }),
  z.looseObject({ type: z.literal("turn.completed"), usage: codexUsageSchema.optional().catch(undefined) }),
  z.looseObject({ type: z.literal("turn.failed"), error: z.looseObject({ message: text }).optional().catch(undefined) }),
  z.looseObject({ type: z.literal("item.started"), item: itemField }),
  z.looseObject({ type: z.literal("item.updated"), item: itemField }),
  z.looseObject({ type: z.literal("item.completed"), item: itemField }),
  z.looseObject({ type: z.literal("error"), message: text }),
]);
export type CodexEvent = z.infer<typeof codexEventSchema>;

/** What a line holds: a known event, some other JSON object (counted, then skipped), or nothing codex-shaped. */
export type ParsedLine = { kind: "event"; event: CodexEvent } | { kind: "other" } | { kind: "none" };

export function parseCodexLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return { kind: "none" };
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return { kind: "none" };
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) return { kind: "none" };
  const parsed = codexEventSchema.safeParse(json);
  return parsed.success ? { kind: "event", event: parsed.data } : { kind: "other" };
}
