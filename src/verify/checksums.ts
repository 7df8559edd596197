/** `checksums.txt` in `sha256sum` format: `<64 hex>  <name>` (or `<64 hex> *<name>`, binary mode), one per line. */

export interface ChecksumEntry {
  sha256: string;
  name: string;
  /** 1-based line number, for messages. */
  line: number;
}

export interface ParsedChecksums {
  entries: ChecksumEntry[];
  /** Lines that are neither blank nor a checksum line: reported, never guessed at. */
  malformed: number[];
}

const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

export function parseChecksums(text: string): ParsedChecksums {
  const entries: ChecksumEntry[] = [];
  const malformed: number[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return;
    const match = LINE.exec(line);
    if (!match) malformed.push(index + 1);
    else entries.push({ sha256: match[1]!.toLowerCase(), name: match[2]!, line: index + 1 });
  });
  return { entries, malformed };
}

/**
 * The line for this program: by the asset name embedded at build time first, then by its own file name.
 * Two lines for the same name cannot both be right, so that is reported as `ambiguous`, not resolved.
 */
export function findEntry(
  parsed: ParsedChecksums,
  names: readonly string[],
): { entry: ChecksumEntry; matchedBy: string } | { ambiguous: ChecksumEntry[] } | null {
  for (const name of names) {
    const hits = parsed.entries.filter((e) => e.name === name || stripDotSlash(e.name) === name);
    if (hits.length === 1) return { entry: hits[0]!, matchedBy: name };
    if (hits.length > 1) return { ambiguous: hits };
  }
  return null;
}

function stripDotSlash(name: string): string {
  return name.startsWith("./") ? name.slice(2) : name;
}

/**
 * Render checksums the way `sha256sum` does, sorted by name, so the same files give the same text on every machine.
 * The one listing of hashes: checksums.txt and the source digest of the build manifest both come from here.
 */
export function formatChecksums(entries: readonly { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join("");
}
