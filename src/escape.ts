/**
 * The escapers that keep text from driving a terminal or a JSON reader: for a command's output, a run record shown, a
 * log line. No I/O here.
 */

/**
 * Security: text printed to a terminal must not carry escape sequences (they can rewrite the screen or, in some
 * terminals, the title and clipboard): a sub-agent's text, a file name it made, a path or agent name a refusal quotes.
 * Control characters other than newline and tab become "?".
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
}

// Characters that steer a terminal rather than print: C0 controls (ESC starts a colour, a title, a cursor move),
// DEL, C1 controls (U+009B is a one-character CSI on some terminals) and the bidirectional overrides that reorder
// what is shown ("Trojan Source").
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const JSON_UNESCAPED_CONTROL = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * One line of human output with every terminal control character written as an escape (`\n`, `\t`, `\u001b`).
 * Security: file names and descriptions come from agent files anyone may have written; printed raw, an ESC sequence
 * could rewrite the terminal (hide an error line, fake an "ok", set the window title).
 */
export function escapeControl(text: string): string {
  return text.replace(TERMINAL_CONTROL, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : unicodeEscape(c)));
}

/** JSON text with the controls JSON.stringify leaves raw (DEL, C1, bidi overrides) escaped too; still the same JSON. */
export function escapeJsonControl(json: string): string {
  return json.replace(JSON_UNESCAPED_CONTROL, unicodeEscape);
}

/** A value as `--json` output: indented JSON, its raw controls escaped, one trailing newline. */
export function jsonText(value: unknown): string {
  return escapeJsonControl(JSON.stringify(value, null, 2)) + "\n";
}
