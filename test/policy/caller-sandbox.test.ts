// The caller's sandbox from a tools/call `_meta`: read as codex really sends it (an object, captured from codex 0.169),
// or as a JSON string; anything else is ignored, and it only ever lowers a sub-agent's sandbox.
import { describe, expect, test } from "bun:test";
import { callerSandboxFromMeta, capToCallerSandbox, MAX_TURN_METADATA_CHARS } from "../../src/policy/caller-sandbox.ts";

// Trimmed from what codex-cli 0.169.0 sent as MCP client (`codex -s read-only exec …`).
const CAPTURED = {
  progressToken: 1,
  callId: "call_fc1wkto33y",
  "x-codex-turn-metadata": {
    session_id: "01a230e6-fa85-7431-a81e-78cf01a1b419",
    model: "mock-model",
    turn_trigger: "exec",
    sandbox: "seccomp",
    sandbox_mode: "read-only",
    codex_version: "0.169.0",
  },
  threadId: "01a230e6-fa85-7431-a81e-78cf01a1b419",
};

describe("callerSandboxFromMeta", () => {
  test("the object codex sends", () => {
    expect(callerSandboxFromMeta(CAPTURED)).toBe("read-only");
  });

  test("the same metadata as a JSON string", () => {
    expect(callerSandboxFromMeta({ "x-codex-turn-metadata": JSON.stringify({ sandbox_mode: "workspace-write" }) })).toBe("workspace-write");
  });

  test.each([
    ["no _meta", undefined],
    ["no turn metadata", { progressToken: 1 }],
    ["turn metadata null", { "x-codex-turn-metadata": null }],
    ["an array", { "x-codex-turn-metadata": [{ sandbox_mode: "read-only" }] }],
    ["unparsable text", { "x-codex-turn-metadata": "{sandbox_mode: read-only" }],
    ["a string holding a string", { "x-codex-turn-metadata": JSON.stringify("read-only") }],
    ["an unknown mode", { "x-codex-turn-metadata": { sandbox_mode: "none" } }],
    ["a mode in another case", { "x-codex-turn-metadata": { sandbox_mode: "Read-Only" } }],
    ["a mode with spaces", { "x-codex-turn-metadata": { sandbox_mode: " read-only" } }],
    ["a number", { "x-codex-turn-metadata": { sandbox_mode: 0 } }],
    ["an object", { "x-codex-turn-metadata": { sandbox_mode: { mode: "read-only" } } }],
    ["only the sandbox kind", { "x-codex-turn-metadata": { sandbox: "none" } }],
    ["an oversized string", { "x-codex-turn-metadata": JSON.stringify({ sandbox_mode: "read-only", pad: "x".repeat(MAX_TURN_METADATA_CHARS) }) }],
  ])("%s: ignored", (_label, meta) => {
    expect(callerSandboxFromMeta(meta)).toBeUndefined();
  });
});

describe("capToCallerSandbox", () => {
  test("a read-only caller caps a workspace-write agent, with a note", () => {
    const capped = capToCallerSandbox("workspace-write", "read-only");
    expect(capped.sandbox).toBe("read-only");
    expect(capped.note).toContain('sandbox lowered from "workspace-write" to "read-only"');
  });

  test("a looser caller never loosens, an equal one changes nothing, none changes nothing", () => {
    expect(capToCallerSandbox("read-only", "danger-full-access")).toEqual({ sandbox: "read-only" });
    expect(capToCallerSandbox("workspace-write", "workspace-write")).toEqual({ sandbox: "workspace-write" });
    expect(capToCallerSandbox("danger-full-access", undefined)).toEqual({ sandbox: "danger-full-access" });
    expect(capToCallerSandbox("danger-full-access", "workspace-write").sandbox).toBe("workspace-write");
  });
});
