/**
 * Bounds on a call's `output_schema`. Pure. A schema nested thousands of levels deep overflows the stack of whatever
 * walks it recursively (ours when we write it, codex's when it reads it) and a huge one only costs memory and tokens:
 * both are refused with the limits named, before anything runs.
 */
import type { RefusalParts } from "../errors.ts";

/** Deepest nesting of objects and arrays accepted (a real schema rarely passes 10). */
export const MAX_OUTPUT_SCHEMA_DEPTH = 64;
/** Largest schema accepted, as JSON. */
export const MAX_OUTPUT_SCHEMA_BYTES = 256 * 1024;

/** Nesting depth of a JSON value, without recursion (so a hostile value cannot overflow our stack either). */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAt) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Why this output_schema is refused (with the limit and what to do), or null when it is within the bounds. */
export function outputSchemaProblem(schema: unknown): RefusalParts | null {
  const depth = jsonDepth(schema, MAX_OUTPUT_SCHEMA_DEPTH);
  if (depth > MAX_OUTPUT_SCHEMA_DEPTH) {
    return {
      message: `output_schema is nested more than ${MAX_OUTPUT_SCHEMA_DEPTH} levels deep (objects and arrays); the limit is ${MAX_OUTPUT_SCHEMA_DEPTH} levels and ${MAX_OUTPUT_SCHEMA_BYTES / 1024} KiB`,
      hint: "flatten it, or describe the shape in the task instead",
    };
  }
  const bytes = Buffer.byteLength(JSON.stringify(schema) ?? "", "utf8");
  if (bytes > MAX_OUTPUT_SCHEMA_BYTES) {
    return {
      message: `output_schema is ${bytes} bytes as JSON; the limit is ${MAX_OUTPUT_SCHEMA_BYTES / 1024} KiB and ${MAX_OUTPUT_SCHEMA_DEPTH} levels`,
      hint: "shorten it, or describe the shape in the task instead",
    };
  }
  return null;
}
