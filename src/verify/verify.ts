/**
 * `--verify` as data: self-hash against checksums.txt, the minisign signature of checksums.txt,
 * the environment, and the embedded build facts. Nothing here prints; commands/verify.ts renders the report.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { findEntry, parseChecksums } from "./checksums.ts";
import { SOURCE_DIGEST_COMMAND, type BuildManifest } from "./manifest.ts";
import { parsePublicKey, verifyMinisign, type MinisignPublicKey } from "./minisign.ts";
import { hashFile } from "./self.ts";
import { EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK } from "../errors.ts";

export type CheckStatus = "PASS" | "FAIL" | "WARN" | "SKIP";

export interface Check {
  id: "environment" | "build-manifest" | "checksum" | "signature";
  status: CheckStatus;
  detail: string;
}

export interface VerifyReport {
  /** `pass` → exit 0, `fail` (a mismatch or a bad signature) → 1, `unverifiable` → 2. */
  result: "pass" | "fail" | "unverifiable";
  exitCode: 0 | 1 | 2;
  binary: { path: string; size: number; sha256: string } | null;
  build: Omit<BuildManifest, "sbom"> | null;
  checks: Check[];
  /** Every package in the SBOM; one compiled into another package's files names that package in `compiled_into`. */
  sbom: { name: string; version: string; purl: string; compiled_into?: string }[];
  limitations: string[];
  independent_commands: string[];
}

export interface VerifyInput {
  manifest: BuildManifest | null;
  /** The file to vouch for (see self.ts); null when running from source. */
  selfPath: string | null;
  env: Readonly<Record<string, string | undefined>>;
  /** `--checksums FILE`; default: checksums.txt beside the program. */
  checksumsPath?: string;
  /** `--pubkey`, already parsed; wins over the embedded key. */
  publicKey?: MinisignPublicKey;
}

/** Variables that make a runtime load code other than this program's (a preload, or Bun acting as plain `bun`). */
const INJECTING_VARIABLES: Record<BuildManifest["kind"], readonly string[]> = {
  executable: ["BUN_OPTIONS", "BUN_BE_BUN", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES"],
  script: ["NODE_OPTIONS", "BUN_OPTIONS", "DENO_OPTIONS", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES"],
};

type Severity = "ok" | "mismatch" | "unverifiable";

/** One check's result: the record shown, how it weighs on the verdict, and the command that repeats it without this program. */
interface Outcome {
  check: Check;
  severity: Severity;
  command?: string;
}

type Binary = NonNullable<VerifyReport["binary"]>;

export async function runVerify(input: VerifyInput): Promise<VerifyReport> {
  const { manifest, selfPath } = input;
  const kind = manifest?.kind ?? "executable";
  const checksumsPath = resolve(input.checksumsPath ?? join(dirname(selfPath ?? "."), "checksums.txt"));
  const outcomes: Outcome[] = [environmentOutcome(kind, input.env), buildManifestOutcome(manifest, selfPath)];
  let binary: VerifyReport["binary"] = null;
  let checksumsBytes: Buffer | null = null;
  if (manifest !== null && selfPath !== null) {
    const checked = await checksumOutcome(manifest, selfPath, checksumsPath);
    outcomes.push(checked.outcome);
    ({ binary, checksumsBytes } = checked);
  }
  outcomes.push(await signatureOutcome(checksumsBytes, checksumsPath, input.publicKey, manifest?.signingKey ?? null));
  const commands = [...outcomes.flatMap((o) => (o.command === undefined ? [] : [o.command])), ...rebuildCommands(manifest)];
  const result = verdictOf(outcomes.map((o) => o.severity));
  return {
    result,
    exitCode: result === "pass" ? EXIT_OK : result === "fail" ? EXIT_FAILURE : EXIT_NOT_FOUND,
    binary,
    build: buildFactsOf(manifest),
    checks: outcomes.map((o) => o.check),
    sbom: sbomSummaryOf(manifest),
    limitations: limitationsFor(kind),
    independent_commands: commands,
  };
}

function environmentOutcome(kind: BuildManifest["kind"], env: VerifyInput["env"]): Outcome {
  const injecting = INJECTING_VARIABLES[kind].filter((name) => (env[name] ?? "") !== "");
  return {
    check:
      injecting.length === 0
        ? { id: "environment", status: "PASS", detail: `none of ${INJECTING_VARIABLES[kind].join(", ")} is set` }
        : {
            id: "environment",
            status: "WARN",
            detail: `${injecting.join(", ")} ${injecting.length === 1 ? "is" : "are"} set: the runtime can load other code into this program; unset ${injecting.length === 1 ? "it" : "them"} where the server runs`,
          },
    severity: "ok",
  };
}

function buildManifestOutcome(manifest: BuildManifest | null, selfPath: string | null): Outcome {
  if (manifest === null || selfPath === null) {
    return {
      check: {
        id: "build-manifest",
        status: "FAIL",
        detail: "no build manifest: this is running from source, so there is no single file to verify; build with `bun run build.ts` or use a release asset",
      },
      severity: "unverifiable",
    };
  }
  return {
    check: {
      id: "build-manifest",
      status: "PASS",
      detail: `${manifest.name} ${manifest.version}, asset ${manifest.asset}, target ${manifest.target}, bun ${manifest.bun.version}, source digest ${manifest.source.digest.slice(0, 16)}…`,
    },
    severity: "ok",
  };
}

/** Hashes this program and looks it up in checksums.txt; the bytes read are kept for the signature check. */
async function checksumOutcome(
  manifest: BuildManifest,
  selfPath: string,
  checksumsPath: string,
): Promise<{ outcome: Outcome; binary: Binary | null; checksumsBytes: Buffer | null }> {
  let binary: Binary;
  try {
    binary = { path: selfPath, ...(await hashFile(selfPath)) };
  } catch (error) {
    const detail = `cannot read this program at ${selfPath}: ${(error as Error).message}`;
    return { outcome: { check: { id: "checksum", status: "FAIL", detail }, severity: "unverifiable" }, binary: null, checksumsBytes: null };
  }
  let checksumsBytes: Buffer;
  try {
    checksumsBytes = await readFile(checksumsPath);
  } catch {
    const detail = `cannot verify: no checksums file at ${checksumsPath}; download checksums.txt from the same release and pass --checksums FILE`;
    return { outcome: { check: { id: "checksum", status: "FAIL", detail }, severity: "unverifiable" }, binary, checksumsBytes: null };
  }
  return { outcome: compareChecksum(checksumsBytes.toString("utf8"), checksumsPath, binary, manifest), binary, checksumsBytes };
}

/** Pure: the line of checksums.txt for this program (by asset name, then by its own name) against its hash. */
function compareChecksum(checksumsText: string, checksumsPath: string, binary: Binary, manifest: BuildManifest): Outcome {
  const parsed = parseChecksums(checksumsText);
  const ownName = basename(binary.path);
  const names = [...new Set([manifest.asset, ownName])];
  const found = findEntry(parsed, names);
  const unlistedCommand = `sha256sum ${shellQuote(binary.path)}   # compare with the line for ${manifest.asset} in the release's checksums.txt`;
  if (found === null) {
    const malformed = parsed.malformed.length ? `, malformed lines ${parsed.malformed.join(", ")}` : "";
    const detail = `cannot verify: ${checksumsPath} has no line for ${names.map((n) => `"${n}"`).join(" or ")} (${parsed.entries.length} lines${malformed}); use the checksums.txt of release ${manifest.version}`;
    return { check: { id: "checksum", status: "FAIL", detail }, severity: "unverifiable", command: unlistedCommand };
  }
  if ("ambiguous" in found) {
    const detail = `${checksumsPath} lists "${found.ambiguous[0]!.name}" on lines ${found.ambiguous.map((e) => e.line).join(", ")}: a checksums file must name each asset once`;
    return { check: { id: "checksum", status: "FAIL", detail }, severity: "mismatch", command: unlistedCommand };
  }
  const { entry } = found;
  const command = listedChecksumCommand(entry, ownName, binary.path, checksumsPath);
  if (entry.sha256 === binary.sha256) {
    return { check: { id: "checksum", status: "PASS", detail: `${entry.name} sha256 ${binary.sha256} matches ${checksumsPath} line ${entry.line}` }, severity: "ok", command };
  }
  const detail = `${entry.name}: this file's sha256 is ${binary.sha256} but ${checksumsPath} line ${entry.line} says ${entry.sha256}; do not run it, download it again`;
  return { check: { id: "checksum", status: "FAIL", detail }, severity: "mismatch", command };
}

/** `sha256sum -c` on checksums.txt itself when it sits beside the file under the listed name, else on the one line. */
function listedChecksumCommand(listed: { name: string; sha256: string }, ownName: string, binaryPath: string, checksumsPath: string): string {
  if (dirname(binaryPath) === dirname(checksumsPath) && listed.name === ownName) {
    return `cd ${shellQuote(dirname(checksumsPath))} && sha256sum -c --ignore-missing ${shellQuote(basename(checksumsPath))}`;
  }
  return `echo ${shellQuote(`${listed.sha256}  ${binaryPath}`)} | sha256sum -c -`;
}

// The signature authenticates checksums.txt itself: without it, whoever swapped the binary could swap both.
async function signatureOutcome(
  checksumsBytes: Buffer | null,
  checksumsPath: string,
  publicKey: MinisignPublicKey | undefined,
  embeddedKey: string | null,
): Promise<Outcome> {
  if (checksumsBytes === null) {
    return { check: { id: "signature", status: "SKIP", detail: "no checksums file to check a signature of" }, severity: "ok" };
  }
  const signaturePath = `${checksumsPath}.minisig`;
  const signatureText = await readFile(signaturePath, "utf8").catch(() => null);
  const keyText = publicKey?.base64 ?? embeddedKey;
  if (signatureText === null) return missingSignatureOutcome(signaturePath, Boolean(publicKey), keyText !== null);
  if (keyText === null) {
    return {
      check: { id: "signature", status: "WARN", detail: `${signaturePath} is present but there is no public key to check it with: pass --pubkey KEY (the key published by the project)` },
      severity: "ok",
      command: `minisign -Vm ${shellQuote(checksumsPath)} -P <the project's public key>`,
    };
  }
  const key = usableKey(publicKey, keyText);
  if ("error" in key) {
    return { check: { id: "signature", status: "FAIL", detail: `the embedded public key is unusable (${key.error}); pass --pubkey KEY` }, severity: "unverifiable" };
  }
  const keySource = publicKey ? "--pubkey" : "the key embedded at build time";
  return checkSignature({ checksumsBytes, signatureText, signaturePath, checksumsPath, key: key.key, keySource });
}

function missingSignatureOutcome(signaturePath: string, keyGiven: boolean, keyKnown: boolean): Outcome {
  if (keyGiven) {
    const detail = `cannot verify: --pubkey was given but there is no signature at ${signaturePath}; download checksums.txt.minisig from the same release`;
    return { check: { id: "signature", status: "FAIL", detail }, severity: "unverifiable" };
  }
  if (keyKnown) {
    const detail = `no signature at ${signaturePath}: checksums.txt is not authenticated; download checksums.txt.minisig from the same release`;
    return { check: { id: "signature", status: "WARN", detail }, severity: "ok" };
  }
  return { check: { id: "signature", status: "SKIP", detail: `no signature at ${signaturePath} and no public key: checksums.txt is not authenticated` }, severity: "ok" };
}

/** `--pubkey` as given, else the embedded key parsed; a malformed embedded key is reported, not thrown. */
function usableKey(publicKey: MinisignPublicKey | undefined, keyText: string): { key: MinisignPublicKey } | { error: string } {
  if (publicKey) return { key: publicKey };
  try {
    return { key: parsePublicKey(keyText) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function checkSignature(signed: {
  checksumsBytes: Buffer;
  signatureText: string;
  signaturePath: string;
  checksumsPath: string;
  key: MinisignPublicKey;
  keySource: string;
}): Outcome {
  const { signaturePath, key, keySource } = signed;
  const outcome = verifyMinisign(signed.checksumsBytes, signed.signatureText, key);
  return {
    check: outcome.ok
      ? { id: "signature", status: "PASS", detail: `${signaturePath} is a valid signature by key ${outcome.keyId} (${keySource}); trusted comment: ${outcome.trustedComment}` }
      : { id: "signature", status: "FAIL", detail: `${signaturePath} does not verify with key ${key.keyId} (${keySource}): ${outcome.reason}` },
    severity: outcome.ok ? "ok" : "mismatch",
    command: `minisign -Vm ${shellQuote(signed.checksumsPath)} -P ${key.base64}`,
  };
}

/** Rebuild from the tag and recompute the source digest: the checks that do not trust this file at all. */
function rebuildCommands(manifest: BuildManifest | null): string[] {
  if (manifest === null) return [];
  return [
    `git clone <the project's repository> codex-subagents && cd codex-subagents && git checkout v${manifest.version} && npm ci && node_modules/.bin/bun run build.ts --release && grep ' ${manifest.asset}$' dist/checksums.txt`,
    `${SOURCE_DIGEST_COMMAND}   # expect ${manifest.source.digest}  -`,
  ];
}

/** A mismatch outweighs anything unverifiable: a file known to be wrong must not read as merely unchecked. */
function verdictOf(severities: readonly Severity[]): VerifyReport["result"] {
  return severities.includes("mismatch") ? "fail" : severities.includes("unverifiable") ? "unverifiable" : "pass";
}

function buildFactsOf(manifest: BuildManifest | null): VerifyReport["build"] {
  if (manifest === null) return null;
  const { sbom: _sbom, ...rest } = manifest;
  return rest;
}

function sbomSummaryOf(manifest: BuildManifest | null): VerifyReport["sbom"] {
  const nameOf = (c: { group?: string; name: string }) => (c.group ? `${c.group}/${c.name}` : c.name);
  return (manifest?.sbom.components ?? []).flatMap((c) => [
    { name: nameOf(c), version: c.version, purl: c.purl },
    ...(c.components ?? []).map((v) => ({ name: nameOf(v), version: v.version ?? "(version unknown)", purl: v.purl, compiled_into: nameOf(c) })),
  ]);
}

function limitationsFor(kind: BuildManifest["kind"]): string[] {
  return [
    "A tampered program can lie about itself: this check runs inside the file it checks. Confirm the hash with sha256sum and the signature with minisign, tools you already trust.",
    "A matching checksums.txt proves only that this file is the one listed there. Unless checksums.txt carries a valid signature by a key you got from somewhere other than this download, whoever could replace the program could replace checksums.txt too.",
    "Where the public key came from must be checked elsewhere (the project's SECURITY.md, its release page, a key you pinned earlier): a key embedded in this build vouches only for builds made with it.",
    kind === "executable"
      ? "The SBOM lists the npm packages bundled into the program (with those compiled into a package's own files, as its sourcemaps name them) and the Bun runtime package it is compiled onto; it does not list the libraries inside Bun itself."
      : "The SBOM lists the npm packages bundled into this script (with those compiled into a package's own files, as its sourcemaps name them); it does not cover the runtime (node, deno or bun) that runs it.",
    "Only a rebuild from the tagged source that reproduces the same SHA-256 ties this file to that source (docs/VERIFY.md).",
  ];
}

/** POSIX single-quoting for commands the user copies; plain words stay bare for readability. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
