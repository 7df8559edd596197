/**
 * `--verify`, `--sbom` and `--version`: argument checks, then a report rendered for people or as JSON.
 * The checks are verify/'s; src/cli.ts dispatches here with the arguments after the command word, and this prints
 * through CliIO.
 */
import { readFileSync } from "node:fs";
import { parseFlags } from "../args.ts";
import type { CliIO } from "../cli-io.ts";
import { cliErrorText, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, NotFoundError, UsageError } from "../errors.ts";
import { PRODUCT_NAME, VERSION } from "../version.ts";
import { embeddedManifest, type BuildManifest } from "../verify/manifest.ts";
import { parsePublicKey, type MinisignPublicKey } from "../verify/minisign.ts";
import { selfPath } from "../verify/self.ts";
import { runVerify, type VerifyReport } from "../verify/verify.ts";

export const VERIFY_USAGE = "codex-subagents --verify [--checksums FILE] [--pubkey KEY|FILE] [--json]";

/** What the commands read from the process; tests pass their own. */
export interface VerifyEnvironment {
  manifest: BuildManifest | null;
  selfPath: string | null;
  env: Readonly<Record<string, string | undefined>>;
}

export function processEnvironment(): VerifyEnvironment {
  const manifest = embeddedManifest();
  return { manifest, selfPath: selfPath(manifest), env: process.env };
}

/** A usage refusal whose hint ends with the command's usage line (after the parser's own hint, when it has one). */
function usageError(io: CliIO, message: string, usage: string, hint?: string): number {
  io.err(cliErrorText(new UsageError(message, { hint: `${hint ? `${hint}; ` : ""}usage: ${usage}` })));
  return EXIT_USAGE;
}

const VERIFY_FLAGS = { json: { type: "boolean" }, checksums: { type: "string" }, pubkey: { type: "string" } } as const;

export async function verifyCommand(argv: string[], io: CliIO, environment: VerifyEnvironment = processEnvironment()): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv, VERIFY_FLAGS, { unknown: (flag, suggestion) => ({ message: `unknown argument "${flag}"${suggestion}` }) });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(io, `--verify: ${error.message}`, VERIFY_USAGE, error.hint);
  }
  if (parsed.positionals.length > 0) return usageError(io, `--verify: unknown argument "${parsed.positionals[0]}"`, VERIFY_USAGE);
  for (const [flag, given] of parsed.values) {
    if (given.length > 1) return usageError(io, `--verify: ${flag} given twice`, VERIFY_USAGE);
    if (given[0] === "") return usageError(io, `--verify: ${flag} needs a value`, VERIFY_USAGE);
  }
  const json = parsed.values.has("--json");
  const checksumsPath = parsed.values.get("--checksums")?.[0];
  const pubkeyArg = parsed.values.get("--pubkey")?.[0];

  let publicKey: MinisignPublicKey | undefined;
  if (pubkeyArg !== undefined) {
    const loaded = loadPublicKey(pubkeyArg);
    if ("error" in loaded) return usageError(io, `--verify: --pubkey ${loaded.error}`, VERIFY_USAGE);
    publicKey = loaded.key;
  }

  const report = await runVerify({
    manifest: environment.manifest,
    selfPath: environment.selfPath,
    env: environment.env,
    ...(checksumsPath !== undefined ? { checksumsPath } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
  });
  if (json) {
    const { exitCode: _exitCode, ...machine } = report;
    io.out(`${JSON.stringify(machine, null, 2)}\n`);
  } else {
    io.out(renderReport(report));
  }
  return report.exitCode;
}

/** `--pubkey` takes the base64 key itself (as `minisign -P`) or a `.pub` file (as `minisign -p`). */
function loadPublicKey(value: string): { key: MinisignPublicKey } | { error: string } {
  const looksLikeKey = /^RW[A-Za-z0-9+/]{54}$/.test(value);
  let text = value;
  if (!looksLikeKey) {
    try {
      text = readFileSync(value, "utf8");
    } catch {
      return { error: `"${value}" is neither a minisign public key (RW…) nor a readable key file` };
    }
  }
  try {
    return { key: parsePublicKey(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export function renderReport(report: VerifyReport): string {
  const lines = report.checks.map((c) => `${c.status} ${c.id}: ${c.detail}`);
  const verdict =
    report.result === "pass"
      ? "all required checks passed"
      : report.result === "fail"
        ? "FAILED: a hash or signature does not match"
        : "cannot verify: see the FAIL lines above";
  lines.push(`result: ${report.result} (${verdict})`);
  if (report.sbom.length > 0) {
    lines.push("", "Bundled packages (embedded at build time; full CycloneDX with --sbom):");
    for (const c of report.sbom) lines.push(c.compiled_into ? `    ${c.name} ${c.version} (compiled into ${c.compiled_into})` : `  ${c.name} ${c.version}`);
  }
  lines.push("", "What this cannot prove:");
  for (const l of report.limitations) lines.push(`  - ${l}`);
  if (report.independent_commands.length > 0) {
    lines.push("", "Check it independently:");
    for (const c of report.independent_commands) lines.push(`  ${c}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function sbomCommand(argv: string[], io: CliIO, environment: VerifyEnvironment = processEnvironment()): Promise<number> {
  if (argv.length > 0) return usageError(io, `--sbom takes no arguments, got "${argv[0]}"`, "codex-subagents --sbom > sbom.json");
  if (environment.manifest === null) {
    io.err(cliErrorText(new NotFoundError("no SBOM: this is running from source, not a build", { hint: "build with `bun run build.ts` or use a release asset" })));
    return EXIT_NOT_FOUND;
  }
  io.out(`${JSON.stringify(environment.manifest.sbom, null, 2)}\n`);
  return EXIT_OK;
}

export async function versionCommand(argv: string[], io: CliIO, environment: VerifyEnvironment = processEnvironment()): Promise<number> {
  if (argv.length > 0) return usageError(io, `--version takes no arguments, got "${argv[0]}"`, "codex-subagents --version");
  const m = environment.manifest;
  const lines = [`${PRODUCT_NAME} ${m?.version ?? VERSION}`];
  if (m === null) {
    lines.push(`build: none (running from source under ${runtimeDescription()})`);
  } else {
    lines.push(`asset: ${m.asset} (${m.kind}, target ${m.target})`);
    lines.push(
      `built with: bun ${m.bun.version}${m.bun.runtime ? `, onto ${m.bun.runtime.package}@${m.bun.runtime.version} (runtime sha256 ${m.bun.runtime.sha256})` : ""}`,
    );
    if (m.kind === "script") lines.push(`running under: ${runtimeDescription()}`);
    lines.push(`source digest: ${m.source.digest} (${m.source.files.length} files; see docs/VERIFY.md)`);
    lines.push(`build flags: ${m.buildFlags.join(" ")}`);
    lines.push(`signing key: ${m.signingKey ?? "none embedded (pass --pubkey to --verify)"}`);
    const nameOf = (c: { group?: string; name: string; version?: string }) => `${c.group ? `${c.group}/` : ""}${c.name} ${c.version ?? "(version unknown)"}`;
    const libraries = m.sbom.components.filter((c) => c.type === "library");
    lines.push(`bundled: ${libraries.map((c) => (c.components?.length ? `${nameOf(c)} (with ${c.components.map(nameOf).join(", ")} compiled in)` : nameOf(c))).join(", ")}`);
  }
  io.out(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

function runtimeDescription(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `bun ${versions.bun}`;
  if (versions.deno) return `deno ${versions.deno}`;
  return `node ${process.version}`;
}
