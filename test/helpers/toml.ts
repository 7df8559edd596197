// TOML text for codex's config.toml, written by the tests that configure codex as an MCP client.
import { appendFile } from "node:fs/promises";
import path from "node:path";

/** A TOML basic string: JSON's string escapes are a subset of what TOML accepts. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** A TOML array of basic strings. */
export function tomlStrings(values: readonly string[]): string {
  return `[${values.map(tomlString).join(", ")}]`;
}

type TomlValue = string | number | boolean | readonly string[];

function tomlValue(value: TomlValue): string {
  if (typeof value === "string") return tomlString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return tomlStrings(value);
}

export interface McpServerToml {
  command: string;
  args: readonly string[];
  /** The table's other keys, in order: `{ tool_timeout_sec: 120, env_vars: ["CODEX_HOME"] }`. */
  settings?: Record<string, TomlValue>;
  /** The `[mcp_servers.NAME.env]` table, when given. */
  env?: Record<string, string>;
}

/** An `[mcp_servers.NAME]` table (and its env table) as config.toml text. */
export function mcpServerToml(name: string, entry: McpServerToml): string {
  const lines = [`[mcp_servers.${name}]`, `command = ${tomlString(entry.command)}`, `args = ${tomlStrings(entry.args)}`];
  for (const [key, value] of Object.entries(entry.settings ?? {})) lines.push(`${key} = ${tomlValue(value)}`);
  if (entry.env) {
    lines.push("", `[mcp_servers.${name}.env]`);
    for (const [key, value] of Object.entries(entry.env)) lines.push(`${key} = ${tomlString(value)}`);
  }
  return lines.join("\n");
}

/** Add TOML text at the end of the config.toml in a CODEX_HOME directory. */
export async function appendCodexConfig(codexHomeDir: string, text: string): Promise<void> {
  await appendFile(path.join(codexHomeDir, "config.toml"), `\n${text}\n`);
}
