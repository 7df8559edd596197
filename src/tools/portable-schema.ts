/**
 * Pure: the JSON Schema the SDK derives from a tool's zod schema → a schema every client and model API accepts.
 *
 * Clients hand a tool's inputSchema to their model's function-calling API (Gemini as `parametersJsonSchema`, OpenAI
 * as `parameters`), which take a subset of JSON Schema: one `type` per schema, no `$schema`, `propertyNames` or
 * `exclusiveMinimum`. Output schemas are read by clients (the Inspector's `--strict` lint, SDK clients that validate
 * structuredContent), which trip over a bare `{}` and `type: [X, "null"]`. The server's own check is unchanged: the
 * zod schemas (strict objects included) still validate every call before the handler runs, so dropping a keyword
 * here only loosens what a client is told, never what the server accepts.
 */

export type JsonSchema = Record<string, unknown>;
export type SchemaUse = "input" | "output";

/** Every JSON type: what a bare `{}` ("any value") means, spelt out. */
const ALL_JSON_TYPES = ["object", "array", "string", "number", "boolean", "null"] as const;

/** Keywords that only restate a default or a limit no JSON value reaches; dropped. */
const NOISE = new Set(["$schema", "propertyNames"]);

/** Keywords whose value is a map of subschemas. */
const SCHEMA_MAPS = ["properties", "$defs", "definitions", "patternProperties"];
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];
/** Keywords whose value is one subschema (or a boolean). */
const SCHEMA_SINGLES = ["items", "additionalProperties", "not", "contains"];

function isPlainObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A schema that constrains nothing: `{}` or one with only annotations. */
function isUnconstrained(schema: JsonSchema): boolean {
  return Object.keys(schema).every((k) => k === "description" || k === "title" || k === "default");
}

/** The portable form of one schema (see the module comment); never mutates its argument. */
export function portableSchema(schema: JsonSchema, use: SchemaUse): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (NOISE.has(key)) continue;
    if (SCHEMA_MAPS.includes(key) && isPlainObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isPlainObject(v) ? portableSchema(v, use) : v]));
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((v) => (isPlainObject(v) ? portableSchema(v, use) : v));
    } else if (SCHEMA_SINGLES.includes(key) && isPlainObject(value)) {
      // `additionalProperties: {}` is the object-literal spelling of `true`.
      out[key] = key === "additionalProperties" && isUnconstrained(value) ? true : portableSchema(value, use);
    } else {
      out[key] = value;
    }
  }
  // zod writes `.positive()` on an int as exclusiveMinimum 0; for integers that is minimum 1. For other numbers the
  // inclusive bound is slightly looser; the server's own check still applies the exclusive one.
  const integer = out.type === "integer";
  if (typeof out.exclusiveMinimum === "number") {
    const bound = integer ? Math.floor(out.exclusiveMinimum) + 1 : out.exclusiveMinimum;
    if (typeof out.minimum !== "number" || out.minimum < bound) out.minimum = bound;
    delete out.exclusiveMinimum;
  }
  if (typeof out.exclusiveMaximum === "number") {
    const bound = integer ? Math.ceil(out.exclusiveMaximum) - 1 : out.exclusiveMaximum;
    if (typeof out.maximum !== "number" || out.maximum > bound) out.maximum = bound;
    delete out.exclusiveMaximum;
  }
  // zod's int() adds the safe-integer range, which says nothing a model needs.
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  // `type: [X, "null"]` → one branch per type, the other keywords kept beside them (they apply per type anyway).
  if (Array.isArray(out.type)) {
    const types = out.type as string[];
    delete out.type;
    if (types.length === 1) out.type = types[0];
    else out.anyOf = types.map((t) => ({ type: t }));
  }
  // A bare `{}` (any JSON value) becomes that, spelt out; an output can be anything, an input argument never is here.
  if (isUnconstrained(out) && use === "output") out.anyOf = ALL_JSON_TYPES.map((t) => (t === "object" ? { type: t, additionalProperties: true } : { type: t }));
  return out;
}

interface ListedTool {
  inputSchema?: unknown;
  outputSchema?: unknown;
  [key: string]: unknown;
}

/** A `tools/list` result with every tool's schemas made portable. */
export function portableToolList<T extends { tools: ListedTool[] }>(result: T): T {
  return {
    ...result,
    tools: result.tools.map((tool) => ({
      ...tool,
      ...(isPlainObject(tool.inputSchema) ? { inputSchema: portableSchema(tool.inputSchema, "input") } : {}),
      ...(isPlainObject(tool.outputSchema) ? { outputSchema: portableSchema(tool.outputSchema, "output") } : {}),
    })),
  };
}
