/** Token usage of one codex thread, as `turn.completed` reports it and every result carries it. */
import { z } from "zod";

export const usageSchema = z.object({
  input_tokens: z.number(),
  cached_input_tokens: z.number(),
  output_tokens: z.number(),
  reasoning_output_tokens: z.number(),
});
export type Usage = z.infer<typeof usageSchema>;
