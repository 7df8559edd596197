// Pure helpers for the worktree patch: split git's diff output into one part per file, tell which parts are binary
// or not UTF-8, and recognise files a sub-agent should not hand back. No fs, no git.
import { mirrorExclusion } from "./mirror-filter.ts";

/** One `diff --git` section of a patch. */
export interface PatchPart {
  /** The path both sides name (renames are off, so there is one), as raw bytes: it may not be UTF-8. */
  path: Buffer;
  bytes: Buffer;
  /** Carries a `GIT binary patch` (base85) rather than text hunks. */
  binary: boolean;
  /** The part's bytes are valid UTF-8 (a JSON string can carry them unchanged). */
  utf8: boolean;
}

const HEADER = Buffer.from("diff --git ");

/** Split `git diff` output into its per-file parts; undefined when a header cannot be read (the caller falls back). */
export function splitPatch(patch: Buffer): PatchPart[] | undefined {
  const starts: number[] = [];
  if (patch.length > 0 && !patch.subarray(0, HEADER.length).equals(HEADER)) return undefined;
  for (let at = 0; at < patch.length; ) {
    starts.push(at);
    const next = patch.indexOf(Buffer.concat([Buffer.from("\n"), HEADER]), at + 1);
    if (next === -1) break;
    at = next + 1;
  }
  const parts: PatchPart[] = [];
  for (let index = 0; index < starts.length; index += 1) {
    const bytes = patch.subarray(starts[index], starts[index + 1] ?? patch.length);
    const lineEnd = bytes.indexOf(10);
    const path = headerPath(bytes.subarray(HEADER.length, lineEnd === -1 ? bytes.length : lineEnd));
    if (!path) return undefined;
    parts.push({ path, bytes, binary: bytes.includes("\nGIT binary patch\n"), utf8: isUtf8(bytes) });
  }
  return parts;
}

/** The path of `a/P b/P` or `"a/P" "b/P"` (C-quoted, as core.quotePath=true writes any unusual name). */
export function headerPath(rest: Buffer): Buffer | undefined {
  if (rest[0] === 0x22) {
    const first = unquote(rest, 0);
    if (!first || !first.value.subarray(0, 2).equals(Buffer.from("a/"))) return undefined;
    return first.value.subarray(2);
  }
  const n = (rest.length - 5) / 2;
  if (!Number.isInteger(n) || n < 1) return undefined;
  const a = rest.subarray(0, 2 + n);
  const b = rest.subarray(2 + n + 1);
  if (!a.subarray(0, 2).equals(Buffer.from("a/")) || rest[2 + n] !== 0x20 || !b.subarray(0, 2).equals(Buffer.from("b/"))) return undefined;
  if (!a.subarray(2).equals(b.subarray(2))) return undefined;
  return a.subarray(2);
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 0x22, "\\": 0x5c };

function unquote(text: Buffer, start: number): { value: Buffer; end: number } | undefined {
  const out: number[] = [];
  for (let i = start + 1; i < text.length; i += 1) {
    const byte = text[i] as number;
    if (byte === 0x22) return { value: Buffer.from(out), end: i + 1 };
    if (byte !== 0x5c) {
      out.push(byte);
      continue;
    }
    const next = String.fromCharCode(text[i + 1] ?? 0);
    if (/[0-7]/.test(next)) {
      out.push(parseInt(text.subarray(i + 1, i + 4).toString("latin1"), 8) & 0xff);
      i += 3;
    } else if (next in ESCAPES) {
      out.push(ESCAPES[next] as number);
      i += 1;
    } else return undefined;
  }
  return undefined;
}

export function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A literal, top-anchored pathspec for one path (no globbing: `*` in a file name is just a `*`). */
export function literalPathspec(path: Buffer, exclude = false): Buffer {
  return Buffer.concat([Buffer.from(exclude ? ":(top,literal,exclude)" : ":(top,literal)"), path]);
}

/** NUL-separated pathspecs for `--pathspec-from-file=… --pathspec-file-nul`. */
export function pathspecFile(specs: readonly Buffer[]): Buffer {
  return Buffer.concat(specs.flatMap((spec) => [spec, Buffer.from([0])]));
}

/**
 * Whether a path names a file that holds secrets by its kind: environment files (`.env*`), private keys
 * (`id_rsa*`, `*.pem`, `*.key`, ...), credential stores (`.netrc`, `.git-credentials`, ...) or anything under a
 * credentials directory (`.ssh/`, `.aws/`, ...). The same list the mirror leaves out (mirror-filter.ts).
 */
export function isSecretShapedPath(path: string): boolean {
  const segments = path.split("/").filter((segment) => segment !== "");
  return segments.some((segment, index) => {
    const isLast = index === segments.length - 1;
    const reason = isLast ? mirrorExclusion(segment, false) : mirrorExclusion(segment, true);
    return reason === "environment file" || reason === "private key" || reason === "credentials";
  });
}

/** A path for a note: UTF-8 when it is, else JSON-escaped Latin-1 so the note stays readable and exact. */
export function displayPath(path: Buffer): string {
  return isUtf8(path) ? path.toString("utf8") : JSON.stringify(path.toString("latin1"));
}
