/**
 * Security: the one choke point that keeps secrets out of results, progress messages, logs and run records.
 * Everything the server shows of codex's output (stderr tail, final message, progress) passes through a Redactor.
 */

const REDACTED = "[REDACTED]";

/**
 * Where a token may start: not inside a word, or right after a JSON/C escape such as `\n` (codex's output is often
 * JSON-escaped text, where `\nsk-…` has no word boundary before the key).
 */
const START = String.raw`(?:(?<=\\[nrtbf"'/])|(?<![A-Za-z0-9_]))`;

/** Common secret shapes, found by their form rather than by knowing the value; `replace` keeps any label. */
const SECRET_PATTERNS: ReadonlyArray<{ pattern: RegExp; replace: string }> = [
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, replace: REDACTED },
  { pattern: new RegExp(`${START}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}`, "g"), replace: REDACTED },
  { pattern: new RegExp(`${START}(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])`, "g"), replace: REDACTED },
  { pattern: new RegExp(`${START}(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}`, "g"), replace: REDACTED },
  { pattern: new RegExp(`${START}github_pat_[A-Za-z0-9_]{20,}`, "g"), replace: REDACTED },
  { pattern: new RegExp(`${START}xox[abprs]-[A-Za-z0-9-]{10,}`, "g"), replace: REDACTED },
  { pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi, replace: `$1 ${REDACTED}` },
  { pattern: /\b(aws_secret_access_key|api[_-]?key|secret|token|password)(\s*[:=]\s*)["']?[^\s"'\\]{8,}/gi, replace: `$1$2${REDACTED}` },
];

export type Redactor = (text: string) => string;

/**
 * Build a redactor that removes the given literal values (e.g. OPENAI_API_KEY and every --pass-env value)
 * and every common secret shape. Values shorter than 6 characters are ignored: redacting "1" or "yes"
 * would mangle ordinary text without protecting anything.
 */
export function createRedactor(secretValues: Iterable<string | undefined>): Redactor {
  const literals = [...new Set([...secretValues].filter((v): v is string => typeof v === "string" && v.length >= 6))]
    .sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const value of literals) out = out.split(value).join(REDACTED);
    for (const { pattern, replace } of SECRET_PATTERNS) out = out.replace(pattern, replace);
    return out;
  };
}

/** Recursively redact every string inside a JSON-like value (for run records and results). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}
