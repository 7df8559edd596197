/**
 * `--verify` as data: self-hash against checksums.txt, the minisign signature of checksums.txt,
 * the environment, and the embedded build facts. Nothing here prints; commands.ts renders the report.
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
  sbom: { name: string; version: string; purl: string }[];
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

export async function runVerify(input: VerifyInput): Promise<VerifyReport> {
  const checks: Check[] = [];
  const severities: Severity[] = [];
  const commands: string[] = [];
  const add = (check: Check, severity: Severity = "ok") => {
    checks.push(check);
    severities.push(severity);
  };
  const { manifest } = input;
  const kind = manifest?.kind ?? "executable";

  const injecting = INJECTING_VARIABLES[kind].filter((name) => (input.env[name] ?? "") !== "");
  add(
    injecting.length === 0
      ? { id: "environment", status: "PASS", detail: `none of ${INJECTING_VARIABLES[kind].join(", ")} is set` }
      : {
          id: "environment",
          status: "WARN",
          detail: `${injecting.join(", ")} ${injecting.length === 1 ? "is" : "are"} set: the runtime can load other code into this program; unset ${injecting.length === 1 ? "it" : "them"} where the server runs`,
        },
  );

  let binary: VerifyReport["binary"] = null;
  if (manifest === null || input.selfPath === null) {
    add(
      {
        id: "build-manifest",
        status: "FAIL",
        detail: "no build manifest: this is running from source, so there is no single file to verify; build with `bun run build.ts` or use a release asset",
      },
      "unverifiable",
    );
  } else {
    add({
      id: "build-manifest",
      status: "PASS",
      detail: `${manifest.name} ${manifest.version}, asset ${manifest.asset}, target ${manifest.target}, bun ${manifest.bun.version}, source digest ${manifest.source.digest.slice(0, 16)}…`,
    });
    try {
      binary = { path: input.selfPath, ...(await hashFile(input.selfPath)) };
    } catch (error) {
      add({ id: "checksum", status: "FAIL", detail: `cannot read this program at ${input.selfPath}: ${(error as Error).message}` }, "unverifiable");
    }
  }

  const checksumsPath = resolve(input.checksumsPath ?? join(dirname(input.selfPath ?? "."), "checksums.txt"));
  let checksumsBytes: Buffer | null = null;
  if (binary !== null && manifest !== null) {
    try {
      checksumsBytes = await readFile(checksumsPath);
    } catch {
      add(
        {
          id: "checksum",
          status: "FAIL",
          detail: `cannot verify: no checksums file at ${checksumsPath}; download checksums.txt from the same release and pass --checksums FILE`,
        },
        "unverifiable",
      );
    }
  }

  if (checksumsBytes !== null && binary !== null && manifest !== null) {
    const parsed = parseChecksums(checksumsBytes.toString("utf8"));
    const ownName = basename(binary.path);
    const names = [...new Set([manifest.asset, ownName])];
    const found = findEntry(parsed, names);
    let listed: { name: string; sha256: string } | null = null;
    if (found === null) {
      add(
        {
          id: "checksum",
          status: "FAIL",
          detail: `cannot verify: ${checksumsPath} has no line for ${names.map((n) => `"${n}"`).join(" or ")} (${parsed.entries.length} lines${parsed.malformed.length ? `, malformed lines ${parsed.malformed.join(", ")}` : ""}); use the checksums.txt of release ${manifest.version}`,
        },
        "unverifiable",
      );
    } else if ("ambiguous" in found) {
      add(
        {
          id: "checksum",
          status: "FAIL",
          detail: `${checksumsPath} lists "${found.ambiguous[0]!.name}" on lines ${found.ambiguous.map((e) => e.line).join(", ")}: a checksums file must name each asset once`,
        },
        "mismatch",
      );
    } else {
      listed = found.entry;
      add(
        found.entry.sha256 === binary.sha256
          ? { id: "checksum", status: "PASS", detail: `${found.entry.name} sha256 ${binary.sha256} matches ${checksumsPath} line ${found.entry.line}` }
          : {
              id: "checksum",
              status: "FAIL",
              detail: `${found.entry.name}: this file's sha256 is ${binary.sha256} but ${checksumsPath} line ${found.entry.line} says ${found.entry.sha256}; do not run it, download it again`,
            },
        found.entry.sha256 === binary.sha256 ? "ok" : "mismatch",
      );
    }
    if (listed === null) {
      commands.push(`sha256sum ${shellQuote(binary.path)}   # compare with the line for ${manifest.asset} in the release's checksums.txt`);
    } else if (dirname(binary.path) === dirname(checksumsPath) && listed.name === ownName) {
      commands.push(`cd ${shellQuote(dirname(checksumsPath))} && sha256sum -c --ignore-missing ${shellQuote(basename(checksumsPath))}`);
    } else {
      commands.push(`echo ${shellQuote(`${listed.sha256}  ${binary.path}`)} | sha256sum -c -`);
    }
  }

  // The signature authenticates checksums.txt itself: without it, whoever swapped the binary could swap both.
  const signaturePath = `${checksumsPath}.minisig`;
  const keyText = input.publicKey?.base64 ?? manifest?.signingKey ?? null;
  const keySource = input.publicKey ? "--pubkey" : "the key embedded at build time";
  let signatureText: string | null = null;
  if (checksumsBytes !== null) {
    try {
      signatureText = await readFile(signaturePath, "utf8");
    } catch {
      signatureText = null;
    }
  }
  if (checksumsBytes === null) {
    add({ id: "signature", status: "SKIP", detail: "no checksums file to check a signature of" });
  } else if (signatureText === null) {
    if (input.publicKey) {
      add({ id: "signature", status: "FAIL", detail: `cannot verify: --pubkey was given but there is no signature at ${signaturePath}; download checksums.txt.minisig from the same release` }, "unverifiable");
    } else if (keyText !== null) {
      add({ id: "signature", status: "WARN", detail: `no signature at ${signaturePath}: checksums.txt is not authenticated; download checksums.txt.minisig from the same release` });
    } else {
      add({ id: "signature", status: "SKIP", detail: `no signature at ${signaturePath} and no public key: checksums.txt is not authenticated` });
    }
  } else if (keyText === null) {
    add({ id: "signature", status: "WARN", detail: `${signaturePath} is present but there is no public key to check it with: pass --pubkey KEY (the key published by the project)` });
    commands.push(`minisign -Vm ${shellQuote(checksumsPath)} -P <the project's public key>`);
  } else {
    let key: MinisignPublicKey | null = input.publicKey ?? null;
    let keyError = "";
    if (key === null) {
      try {
        key = parsePublicKey(keyText);
      } catch (error) {
        keyError = (error as Error).message;
      }
    }
    if (key === null) {
      add({ id: "signature", status: "FAIL", detail: `the embedded public key is unusable (${keyError}); pass --pubkey KEY` }, "unverifiable");
    } else {
      const outcome = verifyMinisign(checksumsBytes, signatureText, key);
      add(
        outcome.ok
          ? { id: "signature", status: "PASS", detail: `${signaturePath} is a valid signature by key ${outcome.keyId} (${keySource}); trusted comment: ${outcome.trustedComment}` }
          : { id: "signature", status: "FAIL", detail: `${signaturePath} does not verify with key ${key.keyId} (${keySource}): ${outcome.reason}` },
        outcome.ok ? "ok" : "mismatch",
      );
      commands.push(`minisign -Vm ${shellQuote(checksumsPath)} -P ${key.base64}`);
    }
  }

  if (manifest !== null) {
    commands.push(
      `git clone <the project's repository> codex-subagents && cd codex-subagents && git checkout v${manifest.version} && npm ci && node_modules/.bin/bun run build.ts --release && grep ' ${manifest.asset}$' dist/checksums.txt`,
    );
    commands.push(
      `${SOURCE_DIGEST_COMMAND}   # expect ${manifest.source.digest}  -`,
    );
  }

  const result: VerifyReport["result"] = severities.includes("mismatch") ? "fail" : severities.includes("unverifiable") ? "unverifiable" : "pass";
  let build: VerifyReport["build"] = null;
  if (manifest !== null) {
    const { sbom: _sbom, ...rest } = manifest;
    build = rest;
  }
  return {
    result,
    exitCode: result === "pass" ? EXIT_OK : result === "fail" ? EXIT_FAILURE : EXIT_NOT_FOUND,
    binary,
    build,
    checks,
    sbom: (manifest?.sbom.components ?? []).map((c) => ({
      name: c.group ? `${c.group}/${c.name}` : c.name,
      version: c.version,
      purl: c.purl,
    })),
    limitations: limitationsFor(kind),
    independent_commands: commands,
  };
}

function limitationsFor(kind: BuildManifest["kind"]): string[] {
  return [
    "A tampered program can lie about itself: this check runs inside the file it checks. Confirm the hash with sha256sum and the signature with minisign, tools you already trust.",
    "A matching checksums.txt proves only that this file is the one listed there. Unless checksums.txt carries a valid signature by a key you got from somewhere other than this download, whoever could replace the program could replace checksums.txt too.",
    "Where the public key came from must be checked elsewhere (the project's SECURITY.md, its release page, a key you pinned earlier): a key embedded in this build vouches only for builds made with it.",
    kind === "executable"
      ? "The SBOM lists the npm packages bundled into the program and the Bun runtime package it is compiled onto; it does not list the libraries inside Bun itself."
      : "The SBOM lists the npm packages bundled into this script; it does not cover the runtime (node, deno or bun) that runs it.",
    "Only a rebuild from the tagged source that reproduces the same SHA-256 ties this file to that source (docs/VERIFY.md).",
  ];
}

/** POSIX single-quoting for commands the user copies; plain words stay bare for readability. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
