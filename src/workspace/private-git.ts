// A git directory the server writes itself, for every git command that reads or writes a working tree.
//
// Security: git reads configuration from the repository's git directory (and its `[include]`/`includeIf` files),
// from `~/.gitconfig` and from the system; any of them can define a filter, textconv or diff driver that an
// attribute (in `.gitattributes` at any depth, `info/attributes`, `core.attributesFile`) names, and git then runs it.
// Neither the repository (possibly hostile) nor the sub-agent's worktree (hostile once it ran) may choose programs
// for the server's own git. So the checkout, the dirty check and the patch run with GIT_DIR set to a directory made
// here, holding only: HEAD (the commit), `objects/` borrowing the repository's objects as an alternate, empty
// `refs/`, and a `config` of a few data-only keys carried over from the repository (line endings, file modes). With
// system and global config switched off (git.ts `isolatedConfigEnv`), no driver of any name is defined, so no
// attribute can start a program, and there is no `info/attributes` but the one we write. Works on every git the
// server supports (2.31+): it needs no `--attr-source`.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MIB } from "../limits.ts";
import { readWholeRegularFile } from "../safe-fs.ts";

/** Repository keys worth keeping in the private config: they shape file contents and modes, and start nothing. */
export const CARRIED_KEYS: readonly string[] = [
  "core.autocrlf",
  "core.eol",
  "core.safecrlf",
  "core.filemode",
  "core.symlinks",
  "core.ignorecase",
  "core.precomposeunicode",
  "core.protectntfs",
  "core.protecthfs",
  "core.checkroundtripencoding",
];

export interface PrivateGitDirOptions {
  /** The commit HEAD names (detached). */
  head: string;
  /** Object directories borrowed read-only as alternates (the repository's); new objects go to our own. */
  alternateObjects: string | readonly string[];
  /** "sha1" or "sha256". */
  objectFormat: string;
  /** key → value, keys from CARRIED_KEYS only (others are dropped). */
  carried?: ReadonlyMap<string, string>;
  /** Text for `info/exclude` (the repository's own, so untracked-file lists match what the user sees). */
  exclude?: string;
  /** Text for `info/attributes` (ours only, e.g. `* binary`). */
  attributes?: string;
}

/** The config file text. Pure. Values that are not plain words are dropped rather than quoted. */
export function privateConfigText(objectFormat: string, carried: ReadonlyMap<string, string> = new Map()): string {
  const lines = ["[core]", `\trepositoryformatversion = ${objectFormat === "sha1" ? 0 : 1}`, "\tbare = false"];
  for (const [key, value] of carried) {
    const lower = key.toLowerCase();
    if (!CARRIED_KEYS.includes(lower) || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) continue;
    lines.push(`\t${lower.slice("core.".length)} = ${value}`);
  }
  if (objectFormat !== "sha1") lines.push("[extensions]", `\tobjectformat = ${objectFormat}`);
  return lines.join("\n") + "\n";
}

/** Make a private git directory under `parent` (a fresh, unguessable name, mode 0700); returns its path. */
export async function createPrivateGitDir(parent: string, options: PrivateGitDirOptions): Promise<string> {
  if (!/^[0-9a-f]{40,64}$/.test(options.head)) throw new Error(`not a commit id: "${options.head}"`);
  const alternates = typeof options.alternateObjects === "string" ? [options.alternateObjects] : [...options.alternateObjects];
  for (const dir of alternates) if (/[\n\r]/.test(dir)) throw new Error(`object directory "${dir}" has a line break`);
  const gitDir = await mkdtemp(join(parent, "git-"));
  await mkdir(join(gitDir, "objects", "info"), { recursive: true, mode: 0o700 });
  await mkdir(join(gitDir, "refs"), { mode: 0o700 });
  await mkdir(join(gitDir, "info"), { mode: 0o700 });
  await writeFile(join(gitDir, "HEAD"), `${options.head}\n`, { mode: 0o600 });
  await writeFile(join(gitDir, "objects", "info", "alternates"), alternates.map((dir) => `${dir}\n`).join(""), { mode: 0o600 });
  await writeFile(join(gitDir, "config"), privateConfigText(options.objectFormat, options.carried), { mode: 0o600 });
  if (options.exclude) await writeFile(join(gitDir, "info", "exclude"), options.exclude, { mode: 0o600 });
  if (options.attributes) await writeFile(join(gitDir, "info", "attributes"), options.attributes, { mode: 0o600 });
  return gitDir;
}

/** Replace the private `info/attributes` (only ours is ever read: the repository's is not in this git directory). */
export async function setPrivateAttributes(gitDir: string, text: string): Promise<void> {
  await writeFile(join(gitDir, "info", "attributes"), text, { mode: 0o600 });
}

/**
 * Read a small text file of the repository (such as `info/exclude`); "" when absent, not a regular file, or over
 * `limit` bytes. Security: opened non-blocking and without following a link, so a FIFO planted there cannot hang us.
 */
export async function readSmallText(file: string, limit = MIB): Promise<string> {
  return (await readWholeRegularFile(file, limit))?.toString("utf8") ?? "";
}
