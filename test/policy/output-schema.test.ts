import { describe, expect, test } from "bun:test";
import { jsonDepth, MAX_OUTPUT_SCHEMA_DEPTH, outputSchemaProblem } from "../../src/policy/output-schema.ts";

function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe("output_schema bounds", () => {
  test("depth counts objects and arrays, iteratively (a 100 000-level value does not overflow the stack)", () => {
    expect(jsonDepth("x")).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(100_000), MAX_OUTPUT_SCHEMA_DEPTH)).toBeGreaterThan(MAX_OUTPUT_SCHEMA_DEPTH);
  });
  test("within the limits: no problem; past them: a refusal naming both limits", () => {
    expect(outputSchemaProblem(nested(MAX_OUTPUT_SCHEMA_DEPTH))).toBeNull();
    expect(outputSchemaProblem(nested(MAX_OUTPUT_SCHEMA_DEPTH + 1))?.message).toContain(`more than ${MAX_OUTPUT_SCHEMA_DEPTH} levels`);
    expect(outputSchemaProblem({ description: "x".repeat(300 * 1024) })?.message).toContain("the limit is 256 KiB");
  });
});
