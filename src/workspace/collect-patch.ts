// Worktree stage 4, patch collection: the sub-agent's changes as a patch against HEAD. Of everything the server
// does, this reads the most that a sub-agent wrote, outside every sandbox, so it treats the worktree as hostile
// throughout (see collectPatch).
//
// Security: git stages into a copy of the worktree's index, in a scratch private git directory whose new objects stay
// there, so not even the blobs it hashes land in the user's object store; it runs with GIT_DIR and GIT_WORK_TREE
// named outright and with no configuration but ours (private-git.ts), so nothing the sub-agent wrote in its `.git`
// or its `.gitattributes` can pick a program to run. Planted `.git` entries are walked out first (hostile-tree.ts).
import { copyFile, lstat, mkdtemp, readdir, realpath, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { readWholeRegularFile } from "../safe-fs.ts";
import { GitCommandError, isolatedConfigEnv, type Git, type GitResult, type GitVersion } from "./git.ts";
import { removePlantedGitEntries } from "./hostile-tree.ts";
import { displayPath, isSecretShapedPath, isUtf8, literalPathspec, pathspecFile, splitPatch, type PatchPart } from "./patch-parts.ts";
import { createPrivateGitDir, setPrivateAttributes } from "./private-git.ts";
import { excludePathspecs } from "./deps.ts";
import type { RepositoryInfo } from "./recipe.ts";
import { WorkspaceError, type CollectedPatch } from "./types.ts";

/** A patch larger than this is refused rather than cut (a cut patch would not apply). */
const MAX_PATCH_BYTES = 64 * 1024 * 1024;

export interface CollectInput {
  git: Git;
  repository: RepositoryInfo;
  version: GitVersion;
  base: string;
  worktree: string;
  /** The worktree's private git directory (beside it, in the server's private directory): its index and any objects
   *  of its own. */
  worktreeGitDir: string;
  carried: ReadonlyMap<string, string>;
  redact?: (text: string) => string;
  /** The dependency links and copies (deps.ts), relative to the top level; never in the patch. */
  excludedPaths?: readonly string[];
}

/** Most files a patch re-encodes one by one before it falls back to encoding every file (argv stays small). */
const MAX_REENCODED_FILES = 500;
/** Binary files larger than this are not read to look for secrets (the note says they were not checked). */
const MAX_BINARY_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * The sub-agent's changes as a patch against HEAD, plus notes for the caller. Treats the worktree as hostile: planted
 * `.git` entries are removed first (hostile-tree.ts), git runs against a fresh private git directory (no config but
 * ours), submodules are never entered, symlinks are recorded as links and never followed, secret-shaped files the
 * sub-agent added are left out, and binary content is named in the notes.
 */
export async function collectPatch(input: CollectInput): Promise<CollectedPatch> {
  const { repository, worktree } = input;
  const notes: string[] = [];
  await refuseMovedWorktree(worktree);
  const scratch = await mkdtemp(join(input.base, "patch-"));
  try {
    // The dependency links (symlinks the server made) are not followed by the walk; a copy is walked like
    // any directory (its `.git` entries go too: git must not read them either), but what was removed there came
    // from the user's dependencies, not from the sub-agent, and is not reported.
    const excludedPaths = input.excludedPaths ?? [];
    const isExcluded = (path: string) => excludedPaths.some((dep) => path === dep || path.startsWith(`${dep}/`));
    const git = await openScratchGit(input, scratch);
    // Planted `.git` directories are moved here, out of the worktree, and deleted with it (removeWorktree).
    const trash = await mkdtemp(join(input.base, "planted-"));
    await stageWorktree(git, worktree, trash, isExcluded, notes);
    // The dependency links and copies are left out of every diff by pathspec, so they never reach the
    // patch, even if the sub-agent un-ignored them or replaced a link with files of its own. (Not on `git add`: an
    // exclude pathspec naming an ignored path makes it fail; a link git stages there is simply never diffed.)
    const excludes = excludePathspecs(excludedPaths);
    const diff = (pathspecs: string[]) => diffStaged(git, repository.headCommit, pathspecs, excludes);
    let patch = await patchWithoutSecrets(git, repository.headCommit, excludes, diff, notes);
    if (!isUtf8(patch)) patch = await reencodeNonUtf8(patch, diff, git.gitDir, notes);
    const parts = splitPatch(patch);
    if (parts) patch = await screenBinaryParts(parts, worktree, input.redact, notes);
    const text = patch.toString("utf8");
    if (!isUtf8(patch)) {
      throw new WorkspaceError(
        "the sub-agent changed a text file that is not UTF-8 and no lossless patch could be made of it",
        { hint: 'use isolation "none" for this task' },
      );
    }
    return { patch: text, notes: Object.freeze(notes) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Security: the sub-agent may write its worktree's parent (it lives in TMPDIR), so it can move the worktree aside
 * and leave a link to any directory in its place; git would then hand that directory back as the patch.
 */
async function refuseMovedWorktree(worktree: string): Promise<void> {
  const [info, real] = await Promise.all([lstat(worktree).catch(() => undefined), realpath(worktree).catch(() => "")]);
  if (!info?.isDirectory() || real !== worktree) {
    throw new WorkspaceError(
      `the worktree "${worktree}" was moved or replaced by a link while the sub-agent ran, so nothing was read from ` +
        `it; no patch is returned`,
    );
  }
}

/** Git pointed at a scratch private git directory and index, with the worktree as its working tree. */
interface ScratchGit {
  gitDir: string;
  run: (args: string[], extra?: { maxOutputBytes?: number; config?: string[] }) => Promise<GitResult>;
  /** Run with `specs` as NUL-separated pathspecs from a file (argv stays small); throws on a non-zero exit. */
  withSpecs: (args: string[], specs: Buffer[]) => Promise<Buffer>;
}

/**
 * Stage into a copy of the worktree's index (its stat cache makes `add -A` hash only what changed); new blobs go to
 * the private git directory's own objects, which borrow the repository's as an alternate.
 */
async function openScratchGit(input: CollectInput, scratch: string): Promise<ScratchGit> {
  const { repository, version, worktree } = input;
  const gitDir = await createPrivateGitDir(scratch, {
    head: repository.headCommit,
    // The worktree's own objects too: commits the sub-agent made there store their blobs in its git directory.
    alternateObjects: [resolve(repository.commonDir, "objects"), join(input.worktreeGitDir, "objects")],
    objectFormat: repository.objectFormat,
    carried: input.carried,
    // Security: the sub-agent's `.gitattributes` must not mark text as binary (base85 would hide it from the
    // redactor) or pick a diff driver: ours is the highest-precedence attributes file, and it leaves `diff` to
    // git's own text/binary detection.
    attributes: "* !diff\n",
  });
  const index = join(scratch, "index");
  await copyFile(join(input.worktreeGitDir, "index"), index).catch(() => undefined);
  // GIT_DIR and GIT_WORK_TREE name the repository outright: git never reads the worktree's own `.git`.
  const env = { ...isolatedConfigEnv(version), GIT_DIR: gitDir, GIT_WORK_TREE: worktree, GIT_INDEX_FILE: index };
  const run = (args: string[], extra: { maxOutputBytes?: number; config?: string[] } = {}) =>
    input.git.run(args, { cwd: worktree, env, timeoutMs: 600_000, ...extra });
  const specFile = join(scratch, "pathspecs");
  const withSpecs = async (args: string[], specs: Buffer[]) => {
    await writeFile(specFile, pathspecFile(specs));
    const result = await run([...args, `--pathspec-from-file=${specFile}`, "--pathspec-file-nul"]);
    if (result.exitCode !== 0) throw new GitCommandError(args, result);
    return result.stdout;
  };
  return { gitDir, run, withSpecs };
}

/** Remove planted `.git` entries, then stage the whole worktree except submodules; notes what was met on the way. */
async function stageWorktree(git: ScratchGit, worktree: string, trash: string, isExcluded: (path: string) => boolean, notes: string[]): Promise<void> {
  // The walk for planted `.git` entries and the listing of the index (which reads no file of the worktree) run
  // at once: on a 20 000-file tree each costs tens of milliseconds between the sub-agent's exit and the result.
  // Submodules (gitlinks in the index) are never entered: left out of `add`, so their paths stay as in HEAD.
  const [walked, listed] = await Promise.allSettled([
    removePlantedGitEntries(worktree, undefined, trash),
    git.run(["ls-files", "-s", "-z"], { maxOutputBytes: 256 * 1024 * 1024 }),
  ]);
  if (walked.status === "rejected") throw walked.reason;
  if (listed.status === "rejected") throw listed.reason;
  const planted = walked.value;
  const plantedBySubAgent = planted.removed.filter((path) => !isExcluded(path));
  if (plantedBySubAgent.length > 0) {
    notes.push(
      `the sub-agent created git metadata inside its worktree (${listSome(plantedBySubAgent)}); it was removed unread ` +
        `before the patch was collected, and the files beside it are in the patch as ordinary files.`,
    );
  }
  const staged = listed.value;
  if (staged.exitCode !== 0) throw new GitCommandError(["ls-files"], staged);
  const gitlinks = nulFields(staged.stdout)
    .filter((entry) => entry.subarray(0, 7).toString("latin1") === "160000 ")
    .map((entry) => entry.subarray(entry.indexOf(9) + 1));
  await git.withSpecs(["add", "-A"], [Buffer.from(":(top)"), ...gitlinks.map((path) => literalPathspec(path, true))]);
  const touchedSubmodules: string[] = [];
  for (const path of gitlinks.slice(0, 100)) {
    const entries = await readdir(Buffer.concat([Buffer.from(worktree + "/"), path])).catch(() => []);
    if (entries.length > 0) touchedSubmodules.push(displayPath(path));
  }
  if (touchedSubmodules.length > 0) {
    notes.push(
      `the sub-agent wrote inside submodule path(s) (${listSome(touchedSubmodules)}); submodules are never entered, ` +
        `so nothing there is in the patch.`,
    );
  }
}

const DIFF_ARGS: readonly string[] = [
  "diff",
  "--cached",
  "--binary",
  "--no-color",
  "--no-ext-diff",
  "--no-textconv",
  "--no-renames",
  "--no-relative",
  "--ignore-submodules=all",
  "--src-prefix=a/",
  "--dst-prefix=b/",
];

/** The staged changes under `pathspecs` (minus `excludes`) as a patch against `head`; refused past MAX_PATCH_BYTES. */
async function diffStaged(git: ScratchGit, head: string, pathspecs: string[], excludes: string[]): Promise<Buffer> {
  const args = [...DIFF_ARGS, head, "--", ...pathspecs, ...excludes];
  const result = await git.run(args, { maxOutputBytes: MAX_PATCH_BYTES, config: ["diff.suppressBlankEmpty=false", "core.quotePath=true"] });
  if (result.truncated) {
    throw new WorkspaceError(
      `the sub-agent's changes make a patch larger than ${MAX_PATCH_BYTES / 1024 / 1024} MiB, too large to return`,
      { hint: 'ask for a smaller change, or use isolation "none" to let it work in place' },
    );
  }
  if (result.exitCode !== 0) throw new GitCommandError(args, result);
  return result.stdout;
}

/**
 * The patch of everything staged. A secret-shaped file (private key, `.env*`, credential store) the sub-agent added
 * stays out of the patch.
 */
async function patchWithoutSecrets(
  git: ScratchGit,
  head: string,
  excludes: string[],
  diff: (pathspecs: string[]) => Promise<Buffer>,
  notes: string[],
): Promise<Buffer> {
  // The list of changes and the patch are made at once (both only read the index); the patch is made again only
  // when a secret-shaped file had to be taken out of the index first.
  // Security: the list is read whole or not at all. Capped at 1 MiB (the default here), a list cut short would end
  // before the paths that sort last, and a `zz/.env` among many changed files would pass as not secret-shaped; past
  // the patch's own cap the patch is refused anyway.
  const [changes, firstPatch] = await Promise.all([
    git.run(["diff", "--cached", "--name-status", "-z", "--no-renames", "--ignore-submodules=all", head, "--", ":(top)", ...excludes], {
      maxOutputBytes: MAX_PATCH_BYTES,
    }),
    diff([":(top)"]).then((bytes) => ({ bytes }), (error: unknown) => ({ error })),
  ]);
  if (changes.truncated) {
    throw new WorkspaceError(
      `the sub-agent changed so many files that their list alone passes ${MAX_PATCH_BYTES / 1024 / 1024} MiB, too large to return`,
      { hint: 'ask for a smaller change, or use isolation "none" to let it work in place' },
    );
  }
  if (changes.exitCode !== 0) throw new GitCommandError(["diff", "--name-status"], changes);
  const fields = nulFields(changes.stdout);
  const secretFiles: Buffer[] = [];
  for (let at = 0; at + 1 < fields.length; at += 2) {
    const path = fields[at + 1] as Buffer;
    if (fields[at]?.toString("latin1") === "A" && isSecretShapedPath(path.toString("utf8"))) secretFiles.push(path);
  }
  if (secretFiles.length === 0) {
    if ("error" in firstPatch) throw firstPatch.error;
    return firstPatch.bytes;
  }
  await git.withSpecs(["rm", "--cached", "-f", "-q", "--ignore-unmatch"], secretFiles.map((path) => literalPathspec(path)));
  notes.push(
    `left out of the patch: ${secretFiles.length} file(s) the sub-agent added whose names mark them as secrets ` +
      `(${listSome(secretFiles.map(displayPath))}); they were not returned.`,
  );
  return diff([":(top)"]);
}

/**
 * A changed text file that is not UTF-8 cannot travel in a JSON string unchanged. Only those files go in git's
 * lossless binary (base85) format; every other file stays text, where the redactor can see it.
 */
async function reencodeNonUtf8(
  patch: Buffer,
  diff: (pathspecs: string[]) => Promise<Buffer>,
  gitDir: string,
  notes: string[],
): Promise<Buffer> {
  const parts = splitPatch(patch);
  const bad = parts ? [...new Map(parts.filter((part) => !part.utf8).map((part) => [part.path.toString("latin1"), part.path])).values()] : undefined;
  const asPathspec = (path: Buffer, exclude = false) => literalPathspec(path, exclude).toString("utf8");
  const expressible = bad?.every((path) => isUtf8(path) && !path.includes(0)) && (bad?.length ?? 0) <= MAX_REENCODED_FILES;
  await setPrivateAttributes(gitDir, "* binary\n");
  try {
    if (!bad || !expressible) {
      notes.push("some changed files are not UTF-8 text, so the patch encodes every file in git's binary format.");
      return await diff([":(top)"]);
    }
    const binaryPart = await diff(bad.map((path) => asPathspec(path)));
    await setPrivateAttributes(gitDir, "* !diff\n");
    const textPart = await diff([":(top)", ...bad.map((path) => asPathspec(path, true))]);
    notes.push(
      `${bad.length} changed file(s) are not UTF-8 text (${listSome(bad.map(displayPath))}), so only they are in git's ` +
        `binary format in the patch; every other file is text.`,
    );
    return Buffer.concat([textPart, binaryPart]);
  } finally {
    await setPrivateAttributes(gitDir, "* !diff\n");
  }
}

/**
 * Security: base85 is not a hiding place. Every binary part is named in the notes; when the file's new content holds
 * something the redactor recognises, the part is left out of the patch (a redacted base85 hunk would not decode).
 */
async function screenBinaryParts(
  parts: PatchPart[],
  worktree: string,
  redact: ((text: string) => string) | undefined,
  notes: string[],
): Promise<Buffer> {
  const binary = parts.filter((part) => part.binary);
  if (binary.length === 0) return Buffer.concat(parts.map((part) => part.bytes));
  const dropped = new Set<PatchPart>();
  const unchecked: string[] = [];
  for (const part of binary) {
    if (!redact) break;
    const file = Buffer.concat([Buffer.from(worktree + "/"), part.path]);
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) continue; // deleted or not a regular file: nothing new to leak
    const bytes = await readWholeRegularFile(file, MAX_BINARY_SCAN_BYTES);
    if (!bytes) {
      unchecked.push(displayPath(part.path));
      continue;
    }
    const content = bytes.toString("latin1");
    if (redact(content) !== content) dropped.add(part);
  }
  const kept = binary.filter((part) => !dropped.has(part));
  if (kept.length > 0) {
    notes.push(
      `binary content in the patch (git's base85 format, not readable as text; review before applying): ` +
        `${listSome(kept.map((part) => displayPath(part.path)), 20)}.` +
        (unchecked.length > 0 ? ` Not checked for secrets (over 16 MiB or unreadable): ${listSome(unchecked)}.` : ""),
    );
  }
  if (dropped.size > 0) {
    notes.push(
      `left out of the patch: binary file(s) holding a secret-looking value (${listSome([...dropped].map((part) => displayPath(part.path)))}).`,
    );
  }
  return Buffer.concat(parts.filter((part) => !dropped.has(part)).map((part) => part.bytes));
}

function nulFields(bytes: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = bytes.indexOf(0, at);
    fields.push(bytes.subarray(at, end === -1 ? bytes.length : end));
    at = end === -1 ? bytes.length : end + 1;
  }
  return fields;
}

function listSome(items: readonly string[], limit = 5): string {
  const shown = items.slice(0, limit).join(", ");
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}
