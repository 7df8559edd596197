/**
 * What the MCP SDK's platform module (`@modelcontextprotocol/server/_shims`) gives it in the executable and the `.mjs`:
 * build.ts puts this module in its place. The SDK's own module for Node and Bun brings ajv, compiled into the SDK's
 * files, as the JSON Schema validator of the two features that need one: checking the answer to an elicitation, and
 * tools whose schema is given as JSON Schema (`fromJsonSchema`). This server uses neither (its tools' schemas are
 * zod, checked by zod), so ajv would be code it never runs inside a program that runs with the user's rights: about
 * 300 KB and a hundred modules evaluated at every start (some 5 ms of CPU on a 2-core machine). So: `process`, as
 * the SDK's own module exports it, and a validator that refuses, loudly, should a later SDK reach it.
 * Under `bun test` (source, no build) the SDK's own module is used.
 */
import process from "node:process";

export class DefaultJsonSchemaValidator {
  getValidator(): never {
    throw new Error(
      "codex-subagents: this build carries no JSON Schema validator (build.ts replaces the MCP SDK's platform module with src/sdk-platform.ts), and the SDK asked for one; report this with the steps that led to it",
    );
  }
}

export { process };
