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

/**
 * Token shapes, found by their form rather than by knowing the value. Each names its issuer; the lengths are the
 * issuers' own, with room for their longer variants.
 */
const TOKEN_SHAPES: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  new RegExp(`${START}sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{16,}`, "g"), // OpenAI, Anthropic
  new RegExp(`${START}(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])`, "g"), // AWS access key id
  new RegExp(`${START}gh[pousr]_[A-Za-z0-9]{20,}`, "g"), // GitHub: ghp_ gho_ ghu_ ghs_ ghr_
  new RegExp(`${START}github_pat_[A-Za-z0-9_]{20,}`, "g"), // GitHub fine-grained
  new RegExp(`${START}glpat-[A-Za-z0-9_-]{20,}`, "g"), // GitLab personal access token
  new RegExp(`${START}npm_[A-Za-z0-9]{30,}`, "g"), // npm
  new RegExp(`${START}AIza[0-9A-Za-z_-]{35}`, "g"), // Google API key
  new RegExp(`${START}ya29\\.[0-9A-Za-z_-]{20,}`, "g"), // Google OAuth access token
  new RegExp(`${START}xox[abprs]-[A-Za-z0-9-]{10,}`, "g"), // Slack
  new RegExp(`${START}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`, "g"), // Stripe
  new RegExp(`${START}eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}`, "g"), // JWT
];

/** `Authorization: Bearer …`, and a password in a URL (`https://user:PASSWORD@host`); the label is kept. */
const LABELLED: ReadonlyArray<{ pattern: RegExp; replace: string }> = [
  { pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi, replace: `$1 ${REDACTED}` },
  { pattern: /\b(Authorization:\s*token)\s+[A-Za-z0-9._~+/=-]{12,}/gi, replace: `$1 ${REDACTED}` }, // GitHub's older form
  { pattern: /\b([a-z][a-z0-9+.-]{1,20}:\/\/[^\s/:@'"]{1,256}:)[^\s/@'"]{3,256}@/gi, replace: `$1${REDACTED}@` },
];

/**
 * A value assigned to a name, in the forms secrets are written in: `NAME=value` and `export NAME="value"` (env files,
 * shell), `name: value` (YAML), `"name": "value"` (JSON, also JSON-escaped as `\"name\": \"value\"`), `name = 'value'`
 * (TOML, INI, code), `--name=value`. Whether the name is a secret's is decided by isSecretName, the value by
 * isPlaceholder. Lengths are bounded so that no input makes the scan quadratic.
 */
/** Where a secret's name may be: every word of SECRET_WORDS, KEY_QUALIFIERS' `key` and `pass`/`pwd` holds one of these. */
const NAME_ANCHOR = /pass|pwd|secret|token|credential|key/gi;
const NAME_CHAR = /[A-Za-z0-9_.-]/;
const MAX_NAME_CHARS = 64;
/** Separator, then the value (sticky): double-quoted (maybe JSON-escaped), single-quoted, or bare. */
const ASSIGNED_VALUE = new RegExp(
  String.raw`(?<sep>[ \t]{0,8}(?::=|=>|=|:)[ \t]{0,8})(?:(?<q1>\\?")(?<dq>[^"\r\n]{1,4096}?)\\?"|(?<q2>')(?<sq>[^'\r\n]{1,4096})'|(?<uv>[^\s"'\\,;&)}\]]{1,4096}))`,
  "y",
);

/** Words that make a name a secret's wherever they stand in it: `DB_PASSWORD`, `clientSecret`, `x-auth-token`. */
const SECRET_WORDS = new Set(["password", "passwd", "passphrase", "secret", "token", "credential", "credentials", "apikey", "privatekey", "accesskey", "secretkey", "authtoken", "accesstoken", "refreshtoken"]);
/** `<word>_key` names of keys: `API_KEY`, `private_key`, `SigningKey`. */
const KEY_QUALIFIERS = new Set(["api", "private", "access", "secret", "signing", "encryption", "master", "auth", "client"]);
/** A last word that makes the name describe a secret rather than hold one: `TOKEN_URL`, `max_tokens`, `password_file`. */
const DESCRIBING_WORDS = new Set([
  "count", "counts", "limit", "limits", "length", "len", "size", "type", "types", "url", "uri", "urls", "endpoint",
  "file", "files", "path", "paths", "dir", "name", "names", "id", "ids", "max", "min", "ttl", "expiry", "expires",
  "expiration", "header", "prefix", "field", "fields", "env", "var", "policy", "hint", "label", "enabled", "required",
  "regex", "pattern", "format", "kind", "mode", "length", "budget", "usage",
]);

/** Whether a variable, key or flag name is one a secret is stored under. Pure; exported for tests. */
export function isSecretName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  if (words.length === 0 || DESCRIBING_WORDS.has(words[words.length - 1]!)) return false;
  const last = words[words.length - 1]!;
  if (words.length > 1 && (last === "pass" || last === "pwd")) return true; // DB_PASS, MYSQL_PWD (but not $PWD)
  return words.some((word, i) => SECRET_WORDS.has(word) || (word === "key" && i > 0 && KEY_QUALIFIERS.has(words[i - 1]!)));
}

/** Values that are not secrets: types, keywords, references and code (`token: string`, `password=$DB_PASSWORD`). */
const PLACEHOLDER_WORDS = new Set(["true", "false", "null", "none", "nil", "undefined", "required", "optional", "string", "str", "number", "int", "integer", "bool", "boolean", "object", "any", "unknown", "bytes", "secretstr", "redacted"]);

function isPlaceholder(value: string, quoted: boolean): boolean {
  if (value.length < 6 || value.includes(REDACTED) || PLACEHOLDER_WORDS.has(value.toLowerCase())) return true;
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value) || /^<[^<>]*>$/.test(value) || /^\*+$/.test(value)) return true;
  // Unquoted code on the right of `=`: a call or a property path (`getToken()`, `process.env.TOKEN`, `self.password`).
  if (!quoted && (/[([{]/.test(value) || /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value))) return true;
  // Unquoted type names in declarations (`private_key: PrivateKey,`, `token: Option<String>`).
  if (!quoted && (/^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/.test(value) || /^[A-Za-z_][\w:]*<[\w<>:]*>$/.test(value))) return true;
  return false;
}

/**
 * Mask the values of secret assignments. The scan is anchored on the words a secret's name holds (NAME_ANCHOR): from
 * each, the name is grown to its edges (at most 64 characters), checked, and only then is its value read; nothing is
 * read twice past a masked value, so the work stays linear in the text whatever it holds.
 */
function maskAssignments(text: string): string {
  const anchors = new RegExp(NAME_ANCHOR.source, "gi");
  const value = new RegExp(ASSIGNED_VALUE.source, "y");
  let out = "";
  let copied = 0;
  for (let a = anchors.exec(text); a !== null; a = anchors.exec(text)) {
    let start = a.index;
    while (start > copied && a.index - start < MAX_NAME_CHARS && NAME_CHAR.test(text[start - 1]!)) start--;
    let end = a.index + a[0].length;
    while (end < text.length && end - start < MAX_NAME_CHARS && NAME_CHAR.test(text[end]!)) end++;
    anchors.lastIndex = end;
    // A name starts with a letter or _ (`--db-password`, `+DB_PASSWORD` in a patch, `.token` in a path).
    while (start < a.index && !/[A-Za-z_]/.test(text[start]!)) start++;
    if (!isSecretName(text.slice(start, end))) continue;
    // The same quote, optionally JSON-escaped, around the name (`"name":`, `'name':`, `\"name\":`).
    let after = end;
    const before = text.slice(Math.max(copied, start - 2), start);
    const quote = /\\?["']$/.exec(before)?.[0];
    if (quote && text.startsWith(quote, end)) after = end + quote.length;
    value.lastIndex = after;
    const v = value.exec(text);
    if (v === null) continue;
    const valueEnd = v.index + v[0].length;
    anchors.lastIndex = valueEnd;
    const { sep = "", q1 = "", dq, q2 = "", sq, uv } = v.groups!;
    const assigned = (dq ?? sq ?? uv)!;
    if (isPlaceholder(assigned, uv === undefined)) continue;
    const open = q1 || q2;
    const valueStart = v.index + sep.length;
    const close = v[0].slice(sep.length + open.length + assigned.length);
    out += text.slice(copied, valueStart) + open + REDACTED + close;
    copied = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

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
    for (const pattern of TOKEN_SHAPES) out = out.replace(pattern, REDACTED);
    for (const { pattern, replace } of LABELLED) out = out.replace(pattern, replace);
    out = maskAssignments(out);
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

/**
 * An event line as it is stored: parsed and redacted value by value when it is JSON (a pattern cannot see a secret
 * that follows an escape like `\n` in the raw text), then the whole line once more; other text is redacted as is.
 */
export function redactEventLine(line: string, redact: Redactor): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return redact(line);
  }
  return redact(JSON.stringify(redactDeep(parsed, redact)));
}
