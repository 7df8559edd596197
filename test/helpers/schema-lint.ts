// The lint of the schemas a server lists: what the function-calling APIs take (input) and what the MCP Inspector's
// --strict lint calls ambiguous (output). Used by test/clients/schemas.test.ts and the 2026-07-28 protocol test.

/** The keywords the function-calling APIs take, and what each may hold. */
const INPUT_KEYWORDS = new Set(["type", "description", "title", "properties", "required", "enum", "items", "minimum", "maximum", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems", "additionalProperties", "default"]);
const SINGLE_TYPES = new Set(["object", "array", "string", "number", "integer", "boolean"]);

/** Problems of one input schema, each as "path: what". */
export function inputSchemaProblems(schema: any, at = "inputSchema"): string[] {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return [`${at}: not a schema object`];
  const problems: string[] = [];
  for (const key of Object.keys(schema)) if (!INPUT_KEYWORDS.has(key)) problems.push(`${at}.${key}: not in the function-calling subset`);
  if (!SINGLE_TYPES.has(schema.type)) problems.push(`${at}.type: must be one of ${[...SINGLE_TYPES].join(", ")}, is ${JSON.stringify(schema.type)}`);
  if ("additionalProperties" in schema && typeof schema.additionalProperties !== "boolean") problems.push(`${at}.additionalProperties: must be true or false`);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) problems.push(...inputSchemaProblems(sub, `${at}.properties.${name}`));
  if (schema.items !== undefined) problems.push(...inputSchemaProblems(schema.items, `${at}.items`));
  return problems;
}

/** Problems of one output schema: the ambiguities the Inspector's --strict lint reports. */
export function outputSchemaProblems(schema: any, at = "outputSchema"): string[] {
  if (typeof schema === "boolean") return [];
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return [`${at}: not a schema`];
  const problems: string[] = [];
  if (Object.keys(schema).every((k) => k === "description" || k === "title")) problems.push(`${at}: constrains nothing (a bare {})`);
  if (Array.isArray(schema.type)) problems.push(`${at}.type: an array ${JSON.stringify(schema.type)}; use anyOf`);
  if ("$schema" in schema) problems.push(`${at}.$schema: not needed`);
  if (typeof schema.additionalProperties === "object") problems.push(...outputSchemaProblems(schema.additionalProperties, `${at}.additionalProperties`));
  for (const [name, sub] of Object.entries(schema.properties ?? {})) problems.push(...outputSchemaProblems(sub, `${at}.properties.${name}`));
  if (schema.items !== undefined) problems.push(...outputSchemaProblems(schema.items, `${at}.items`));
  for (const key of ["anyOf", "oneOf", "allOf"]) (schema[key] ?? []).forEach((sub: unknown, i: number) => problems.push(...outputSchemaProblems(sub, `${at}.${key}[${i}]`)));
  return problems;
}
