import { describe, expect, test } from "bun:test";
import { portableSchema, portableToolList } from "../../src/tools/portable-schema.ts";

describe("portableSchema", () => {
  test("drops $schema and propertyNames; additionalProperties {} becomes true", () => {
    expect(portableSchema({ $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { o: { type: "object", propertyNames: { type: "string" }, additionalProperties: {} } }, additionalProperties: false }, "input")).toEqual({
      type: "object",
      properties: { o: { type: "object", additionalProperties: true } },
      additionalProperties: false,
    });
  });

  test("exclusive bounds become inclusive ones: exact for integers, the looser bound for other numbers", () => {
    expect(portableSchema({ type: "integer", exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER }, "input")).toEqual({ type: "integer", minimum: 1 });
    expect(portableSchema({ type: "integer", exclusiveMaximum: 10, minimum: Number.MIN_SAFE_INTEGER }, "input")).toEqual({ type: "integer", maximum: 9 });
    expect(portableSchema({ type: "number", exclusiveMinimum: 0.5 }, "input")).toEqual({ type: "number", minimum: 0.5 });
    // A tighter inclusive bound already there is kept.
    expect(portableSchema({ type: "integer", exclusiveMinimum: 0, minimum: 5 }, "input")).toEqual({ type: "integer", minimum: 5 });
  });

  test("type arrays become anyOf with one type each; the other keywords stay beside them", () => {
    expect(portableSchema({ type: ["string", "null"], description: "d" }, "output")).toEqual({ description: "d", anyOf: [{ type: "string" }, { type: "null" }] });
    expect(portableSchema({ type: ["string"] }, "output")).toEqual({ type: "string" });
  });

  test("a bare {} in an output schema is spelt out as any JSON value; nested schemas are walked", () => {
    const out = portableSchema({ type: "object", properties: { any: {}, list: { type: "array", items: { type: ["number", "null"] } }, u: { anyOf: [{ type: "string" }, {}] } } }, "output") as any;
    expect(out.properties.any.anyOf.map((b: any) => b.type)).toEqual(["object", "array", "string", "number", "boolean", "null"]);
    expect(out.properties.list.items).toEqual({ anyOf: [{ type: "number" }, { type: "null" }] });
    expect(out.properties.u.anyOf[1].anyOf).toHaveLength(6);
  });

  test("never mutates its argument", () => {
    const schema = { $schema: "x", type: ["string", "null"], properties: { a: { exclusiveMinimum: 0, type: "integer" } } };
    const copy = structuredClone(schema);
    portableSchema(schema, "output");
    expect(schema).toEqual(copy);
  });

  test("portableToolList keeps every other field of each tool", () => {
    const listed = portableToolList({ tools: [{ name: "t", description: "d", annotations: { readOnlyHint: true }, inputSchema: { $schema: "x", type: "object" } }], nextCursor: "c" } as any);
    expect(listed).toEqual({ tools: [{ name: "t", description: "d", annotations: { readOnlyHint: true }, inputSchema: { type: "object" } }], nextCursor: "c" } as any);
  });
});
