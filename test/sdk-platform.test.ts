// The platform module build.ts gives the MCP SDK in the executable: Node's `process` as the SDK's own gives it, and a
// JSON Schema validator that refuses with a message saying where it comes from, should a later SDK reach for it.
import { describe, expect, test } from "bun:test";
import { DefaultJsonSchemaValidator, process as platformProcess } from "../src/sdk-platform.ts";

describe("src/sdk-platform.ts", () => {
  test("process is the process", () => {
    expect(platformProcess).toBe(process);
  });

  test("the validator refuses, naming the module that replaced the SDK's and what to do", () => {
    expect(() => new DefaultJsonSchemaValidator().getValidator()).toThrow(/no JSON Schema validator.*src\/sdk-platform\.ts.*report this/);
  });
});
