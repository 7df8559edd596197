/**
 * Pure: agent file text → agent or issues. No filesystem access here (registry.ts reads files).
 */
import { isScalar, parseDocument, visit } from "yaml";
import { grantIssues } from "./grants.ts";
import { mapClaudeAgent } from "./claude-code.ts";
import { mapCodexRole } from "./codex-role.ts";
import { detectMarkdownFormat, guessKeys, type MappedAgent } from "./interop.ts";
import {
  AGENT_NAME_PATTERN, MAX_AGENT_FILE_BYTES, MAX_FRONTMATTER_BYTES, MAX_PERSONA_BYTES, SETTING_KEYS, refusedByCodex, settingOptions, settingSchemas, hasErrors,
  type Agent, type AgentFileResult, type AgentFormat, type AgentIssue, type AgentSettings, type SettingKey,
} from "./schema.ts";
import { ambiguousCharacter, ambiguousCharacterMessage, duplicateJsonKey, plainDataProblem, prototypeKeyMessage, unknownKeyIssue } from "./strict.ts";
import { parseToml, TomlError } from "./toml.ts";

const MAX_JSON_DEPTH = 8;
const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * This server's keys that limit what an agent may do: a misspelling of one is an error, not an ignored key
 * (strict.ts unknownKeyIssue). Names another format or a later version adds count only once they are known keys.
 */
const LIMITING_KEYS = ["sandbox_mode", "approval_policy", "isolation", "mcp_servers", "web_search", "network"];

export function checkAgentName(name: string, fromKey = false): AgentIssue | null {
  if (AGENT_NAME_PATTERN.test(name)) return null;
  return {
    level: "error", code: "INVALID_NAME", field: "name",
    message: `agent name "${name}" must match ${AGENT_NAME_PATTERN} (lowercase letters, digits, _ and -, at most 64); ${fromKey ? "change the file's name key" : "rename the file"}`,
  };
}

/** Validate known settings one by one, so each bad key gets its own issue; unknown keys are warnings. */
export function validateSettings(raw: Record<string, unknown>, extraKeys: readonly string[] = []): {
  settings: AgentSettings;
  issues: AgentIssue[];
} {
  const settings: Record<string, unknown> = {};
  const issues: AgentIssue[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (extraKeys.includes(key)) continue;
    if (!(SETTING_KEYS as string[]).includes(key)) {
      const issue = unknownKeyIssue(key, SETTING_KEYS, LIMITING_KEYS, { code: "UNKNOWN_KEY", ignored: `unknown key "${key}" is ignored`, known: `known keys: ${SETTING_KEYS.join(", ")}` });
      if (issue) issues.push(issue);
      continue;
    }
    const schema = settingSchemas[key as SettingKey];
    const parsed = schema.safeParse(typeof value === "string" && key === "description" ? value.trim() : value);
    const refused = parsed.success ? refusedByCodex(key as SettingKey, parsed.data) : null;
    if (refused) {
      issues.push(refused);
    } else if (parsed.success) {
      settings[key] = parsed.data;
    } else {
      issues.push({ level: "error", code: "INVALID_VALUE", field: key, message: describeBadValue(key as SettingKey, value, parsed.error.issues[0]?.message) });
    }
  }
  issues.push(...grantIssues(settings as AgentSettings));
  return { settings: settings as AgentSettings, issues };
}

function describeBadValue(key: SettingKey, value: unknown, detail: string | undefined): string {
  const shown = JSON.stringify(value)?.slice(0, 80) ?? String(value);
  const options = settingOptions(key);
  const allowed = options ? `; use one of: ${options.join(", ")}` : detail ? `: ${detail}` : "";
  if (key === "timeout_s") return `timeout_s ${shown} is not valid; use a positive whole number of seconds`;
  return `${key} ${shown} is not valid${allowed}`;
}

export function checkPersona(persona: string, field = "persona"): AgentIssue | null {
  if (persona.trim().length === 0) {
    return { level: "error", code: "EMPTY_PERSONA", field, message: "the persona is empty; write the agent's instructions in the file body (below the frontmatter)" };
  }
  if (byteLength(persona) > MAX_PERSONA_BYTES) {
    return { level: "error", code: "PERSONA_TOO_LARGE", field, message: `the persona is ${byteLength(persona)} bytes; the limit is ${MAX_PERSONA_BYTES} (64 KiB): shorten it` };
  }
  return null;
}

export interface FinishOptions {
  format?: AgentFormat;
  /** The name came from the file's `name` key rather than its file name. */
  nameFromKey?: boolean;
  sandboxFrom?: string;
  personaField?: string;
}

/** Assemble the result: an agent exists only when no error was found. */
export function finishAgent(name: string, file: string, settings: AgentSettings, persona: string | undefined, issues: AgentIssue[], opts: FinishOptions = {}): AgentFileResult {
  const format = opts.format ?? "codex-subagents";
  const nameIssue = checkAgentName(name, opts.nameFromKey);
  if (nameIssue) issues.unshift(nameIssue);
  if (persona !== undefined) {
    const personaIssue = checkPersona(persona, opts.personaField);
    if (personaIssue) issues.push(personaIssue);
  }
  const result: AgentFileResult = { file, name, format, settings, issues };
  if (!hasErrors(issues) && persona !== undefined) {
    const agent: Agent = { name, file, persona: persona.trim(), ...settings };
    // Only mapped formats carry these; an agent without `format` is in this server's own format.
    if (format !== "codex-subagents") agent.format = format;
    if (opts.sandboxFrom) agent.sandbox_from = opts.sandboxFrom;
    result.agent = agent;
  }
  return result;
}

/** A mapped file (Claude Code or Codex role): its own `name` wins over the file name. */
function finishMapped(basename: string, file: string, format: AgentFormat, mapped: MappedAgent, persona: string | undefined, extra: AgentIssue[] = []): AgentFileResult {
  const fromKey = mapped.name !== undefined && mapped.name !== "";
  return finishAgent(fromKey ? mapped.name! : basename, file, mapped.settings, persona, [...extra, ...mapped.issues], {
    format, nameFromKey: fromKey, sandboxFrom: mapped.sandboxFrom, personaField: format === "codex-role" ? "developer_instructions" : "persona",
  });
}

/** The text without its leading byte-order mark, if any (one after it is left for strict.ts to refuse). */
function withoutBom(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

/** YAML's line breaks (1.2, section 5.4): CRLF, LF and CR. NEL, U+2028 and U+2029 are not line ends to YAML. */
const YAML_LINE_BREAK = /\r\n|\n|\r/g;
const DELIMITER = /^---[ \t]*$/;

/**
 * Split `---` frontmatter from the body. No frontmatter means the whole text is the persona. Lines are what YAML calls
 * lines (never a JavaScript `m` regex, whose line ends include U+2028 and U+2029: a `---` after one would cut the
 * settings short). `head` is the text from the start through the closing delimiter line: the part that holds settings.
 */
export function splitFrontmatter(text: string): { frontmatter: string | null; body: string; head: string } | { error: string } {
  const clean = withoutBom(text);
  const lines: Array<{ start: number; end: number; next: number }> = [];
  let start = 0;
  for (const m of clean.matchAll(YAML_LINE_BREAK)) {
    lines.push({ start, end: m.index, next: m.index + m[0].length });
    start = m.index + m[0].length;
  }
  lines.push({ start, end: clean.length, next: clean.length });
  const lineText = (l: { start: number; end: number }) => clean.slice(l.start, l.end);
  const open = lines[0]!;
  // The opening line must end with a line break: a file that is just "---" has no frontmatter.
  if (lines.length < 2 || !DELIMITER.test(lineText(open))) return { frontmatter: null, body: clean, head: "" };
  const close = lines.slice(1).find((l) => DELIMITER.test(lineText(l)));
  if (!close) return { error: "the frontmatter opened with \"---\" is never closed; add a line \"---\" after the settings" };
  return { frontmatter: clean.slice(open.next, close.start), body: clean.slice(close.next), head: clean.slice(0, close.next) };
}

/**
 * The part of a `.md` file whose characters are held to strict.ts, or "" for a file with no frontmatter. A file that
 * starts with "---" or a second byte-order mark but has no frontmatter by our reading may look like it has one to a
 * reader, so its first line is checked too.
 */
function settingsPartOf(text: string, split: { frontmatter: string | null; head: string }): string {
  if (split.frontmatter !== null) return split.head;
  const clean = withoutBom(text);
  if (!/^(\uFEFF|---)/.test(clean)) return "";
  return clean.split(/\r\n|\n/, 1)[0]!;
}

/**
 * `<name>.md`: optional YAML frontmatter, then the persona. The frontmatter's keys (or, when they do not decide, a
 * `.claude/agents` directory) say whether it is this server's format or a Claude Code agent.
 */
export function parseMarkdownAgent(name: string, file: string, text: string, opts: { inClaudeDir?: boolean } = {}): AgentFileResult {
  const split = splitFrontmatter(text);
  const dirFormat: AgentFormat = opts.inClaudeDir ? "claude-code" : "codex-subagents";
  if ("error" in split) return finishAgent(name, file, {}, undefined, [{ level: "error", code: "FRONTMATTER_UNCLOSED", message: split.error }], { format: dirFormat });
  const ambiguous = ambiguousCharacter(settingsPartOf(text, split));
  if (ambiguous) {
    return finishAgent(name, file, {}, undefined, [{ level: "error", code: "AMBIGUOUS_CHARACTER", message: ambiguousCharacterMessage(ambiguous) }], { format: dirFormat });
  }
  if (split.frontmatter === null) {
    if (dirFormat === "claude-code") return finishMapped(name, file, "claude-code", mapClaudeAgent({}), split.body);
    return finishAgent(name, file, {}, split.body, []);
  }
  if (byteLength(split.frontmatter) > MAX_FRONTMATTER_BYTES) {
    return finishAgent(name, file, {}, undefined, [{
      level: "error", code: "FRONTMATTER_TOO_LARGE",
      message: `the frontmatter is ${byteLength(split.frontmatter)} bytes; the limit is ${MAX_FRONTMATTER_BYTES}: it holds settings, the persona goes in the body`,
    }]);
  }
  const parsed = parseYamlObject(split.frontmatter);
  if ("error" in parsed) {
    const guessed = detectMarkdownFormat(guessKeys(split.frontmatter), opts.inClaudeDir === true);
    const format = "format" in guessed ? guessed.format : "claude-code";
    return finishAgent(name, file, {}, undefined, [{ level: "error", code: "YAML_ERROR", message: parsed.error }], { format });
  }
  const detected = detectMarkdownFormat(Object.keys(parsed.value), opts.inClaudeDir === true);
  if ("error" in detected) return finishAgent(name, file, {}, undefined, [detected.error], { format: "claude-code" });
  const keyIssues = prototypeKeyIssues(parsed.value);
  if (detected.format === "claude-code") return finishMapped(name, file, "claude-code", mapClaudeAgent(parsed.value), split.body, keyIssues);
  const { settings, issues } = validateSettings(parsed.value);
  return finishAgent(name, file, settings, split.body, [...keyIssues, ...issues]);
}

/** `<name>.toml`: a Codex role file (name, description, developer_instructions and a few Codex config keys). */
export function parseCodexRoleAgent(name: string, file: string, text: string): AgentFileResult {
  const fail = (code: string, message: string) => finishAgent(name, file, {}, undefined, [{ level: "error", code, message }], { format: "codex-role" });
  // A lone CR is left to the TOML parser: TOML 1.0 forbids it everywhere, and smol-toml refuses it.
  const ambiguous = ambiguousCharacter(withoutBom(text), { loneCarriageReturn: false });
  if (ambiguous) return fail("AMBIGUOUS_CHARACTER", ambiguousCharacterMessage(ambiguous));
  let table: Record<string, unknown>;
  try {
    table = parseToml(text, { maxBytes: MAX_AGENT_FILE_BYTES });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    return fail("TOML_ERROR", `not valid TOML, or more than a role file holds: ${error.message}`);
  }
  const mapped = mapCodexRole(table);
  return finishMapped(name, file, "codex-role", mapped, mapped.persona, prototypeKeyIssues(table));
}

/**
 * A key named __proto__, constructor or prototype anywhere in a parsed file is an error (strict.ts), in every format;
 * so is an object that is not plain (a parser that assigned such a key would have replaced its prototype).
 */
function prototypeKeyIssues(value: unknown): AgentIssue[] {
  const problem = plainDataProblem(value);
  if (problem === null || problem.kind === "too-deep") return [];
  const message = problem.kind === "prototype-key"
    ? prototypeKeyMessage(problem)
    : `the value at ${problem.path || "the top"} is not plain data (its prototype was replaced); remove any key named __proto__, constructor or prototype`;
  return [{ level: "error", code: "PROTOTYPE_KEY", ...(problem.path ? { field: problem.path } : {}), message }];
}

/**
 * Security: aliases are refused outright (maxAliasCount 0), so a billion-laughs file is an error, not a hang;
 * the size was bounded before parsing.
 */
function parseYamlObject(source: string): { value: Record<string, unknown> } | { error: string } {
  if (source.trim() === "") return { value: {} };
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    const message = first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    // +1: the opening "---" line comes before the frontmatter.
    return { error: `the frontmatter is not valid YAML${line ? ` (line ${line + 1} of the file)` : ""}: ${message}` };
  }
  let aliased = false;
  visit(doc, { Alias: () => { aliased = true; return visit.BREAK; } });
  if (aliased) return { error: "the frontmatter uses a YAML alias (*name); aliases are not allowed in agent files: write the value out" };
  const badKey = nonTextKey(doc);
  if (badKey) return { error: `the frontmatter has the key ${badKey}, which is not text; keys are names (put it in quotes if it is one)` };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    return { error: `the frontmatter uses YAML aliases or anchors, which are not allowed: ${(error as Error).message.split("\n")[0]}` };
  }
  if (value === null || value === undefined) return { value: {} };
  if (typeof value !== "object" || Array.isArray(value)) return { error: "the frontmatter must be a mapping of key: value settings" };
  return { value: value as Record<string, unknown> };
}

/**
 * A mapping key that is not a string (`1:`, `true:`, `~:`, a list or mapping as a key), shown as written, or null.
 * Security: such keys become strings in JavaScript, and two different YAML keys can become one (`1` and `"1"`): the
 * last would win silently, which uniqueKeys (YAML's own notion of equal keys) does not see.
 */
function nonTextKey(doc: ReturnType<typeof parseDocument>): string | null {
  let found: string | null = null;
  visit(doc, {
    Pair: (_, pair) => {
      const key = pair.key;
      if (isScalar(key) && typeof key.value === "string") return undefined;
      found = isScalar(key) ? JSON.stringify(key.source ?? String(key.value)) : key === null ? "(empty)" : "that is a list or mapping";
      return visit.BREAK;
    },
  });
  return found;
}

export interface JsonAgentFields {
  settings: AgentSettings;
  persona?: string;
  personaFile?: string;
  issues: AgentIssue[];
  /** False when the text could not be used at all (bad JSON). */
  usable: boolean;
}

/** `<name>.json`: the settings keys plus exactly one of `persona` and `personaFile`. */
export function parseJsonAgentFields(text: string): JsonAgentFields {
  const unusable = (code: string, message: string): JsonAgentFields => ({ settings: {}, issues: [{ level: "error", code, message }], usable: false });
  const clean = withoutBom(text);
  const ambiguous = ambiguousCharacter(clean);
  if (ambiguous) return unusable("AMBIGUOUS_CHARACTER", ambiguousCharacterMessage(ambiguous));
  let value: unknown;
  try {
    value = JSON.parse(clean);
  } catch (error) {
    return unusable("JSON_ERROR", `not valid JSON: ${(error as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return unusable("JSON_ERROR", "the file must hold one JSON object of settings");
  if (plainDataProblem(value, { maxDepth: MAX_JSON_DEPTH, prototypeKeys: false })?.kind === "too-deep") {
    return unusable("JSON_TOO_DEEP", `the JSON nests deeper than ${MAX_JSON_DEPTH} levels; agent settings are flat key: value pairs`);
  }
  // Security: JSON.parse keeps the last of two equal keys, so a second "sandbox_mode" after a long persona would win
  // over the one a reader sees near the top.
  const duplicate = duplicateJsonKey(clean);
  if (duplicate) {
    return unusable("JSON_ERROR", `the key "${duplicate.key}" appears twice in one object (at ${duplicate.path}, line ${duplicate.line}); JSON readers disagree about which one counts (JavaScript keeps the last): keep one`);
  }
  const raw = value as Record<string, unknown>;
  const { settings, issues: settingIssues } = validateSettings(raw, ["persona", "personaFile"]);
  const issues = [...prototypeKeyIssues(raw), ...settingIssues];
  const out: JsonAgentFields = { settings, issues, usable: true };
  const hasPersona = raw.persona !== undefined;
  const hasFile = raw.personaFile !== undefined;
  if (hasPersona && hasFile) {
    issues.push({ level: "error", code: "PERSONA_CONFLICT", field: "persona", message: "give either persona or personaFile, not both" });
  } else if (hasPersona) {
    if (typeof raw.persona === "string") out.persona = raw.persona;
    else issues.push({ level: "error", code: "INVALID_VALUE", field: "persona", message: "persona must be a string" });
  } else if (hasFile) {
    if (typeof raw.personaFile === "string" && raw.personaFile.length > 0) out.personaFile = raw.personaFile;
    else issues.push({ level: "error", code: "INVALID_VALUE", field: "personaFile", message: "personaFile must be a relative path inside the agents directory" });
  } else {
    issues.push({ level: "error", code: "EMPTY_PERSONA", field: "persona", message: "a JSON agent needs \"persona\" (text) or \"personaFile\" (a file inside the agents directory)" });
  }
  return out;
}
