// What a `mirror` copy leaves out, in one list. Pure: names in, decision out; no fs.
//
// Security: a mirror exists so a sub-agent can work on a copy of the user's files without reaching secrets or
// version-control internals. Each rule names what it keeps away:
// - version-control metadata (`.git` directories and `.git` files of submodules/worktrees, `.hg`, `.svn`, `.jj`):
//   remotes with embedded tokens, hooks, the whole history, and a way back into the real repository;
// - every name that starts with `.env` (files and directories: `.env`, `.env.local`, `.env-production`, `.env_local`,
//   `.envrc`, `.envs/`, `.environment`): application secrets, by convention (`.env.example` too: we cannot tell);
// - `node_modules`: not a secret, but large, rebuildable, and full of executable install scripts;
// - private keys and certificates with keys (`*.pem`, `*.key`, `id_rsa*`, `id_dsa*`, `id_ecdsa*`, `id_ed25519*`,
//   `*.ppk`, `*.p12`, `*.pfx`, `*.jks`, `*.keystore`, `*.keytab`);
// - credential files of common tools: package registries (`.npmrc`, `.yarnrc.yml`, `.pypirc`, `.gem`'s and
//   `.cargo`'s `credentials`, `credentials.toml`), git and HTTP (`.git-credentials`, `.gitcookies`, `.netrc`,
//   `_netrc`, `.htpasswd`), databases (`.pgpass`, `.my.cnf`, `.mylogin.cnf`), clouds and their tools (`credentials`,
//   `credentials.json`, `application_default_credentials.json`, `.boto`, `.s3cfg`, `.vault-token`, `rclone.conf`,
//   `.rclone.conf`, `kubeconfig`, `*.kubeconfig`, `.dockercfg`, `credentials.tfrc.json`, `.terraformrc`,
//   `terraform.rc`, `*.tfstate*`), `auth.json` (Codex's and Composer's login tokens), `settings-security.xml` (Maven),
//   `*.kdbx` (KeePass);
// - whole directories that hold such files: `.ssh`, `.gnupg`, `.aws`, `.azure`, `.gcloud`, `gcloud` (the Google Cloud
//   SDK's configuration directory), `.kube`, `.docker`, `.password-store`.
// Names are compared case-insensitively (macOS and Windows file systems are). Special files (sockets, FIFOs,
// devices) and symlinks that resolve outside the mirrored directory are handled by the copier, not here.

/** Why an entry is left out of a mirror; the text is shown to the user in a note. */
export type MirrorExclusion =
  | "version control"
  | "environment file"
  | "node_modules"
  | "private key"
  | "credentials";

const EXCLUDED_DIRECTORIES: ReadonlyMap<string, MirrorExclusion> = new Map([
  [".git", "version control"],
  [".hg", "version control"],
  [".svn", "version control"],
  [".jj", "version control"],
  ["node_modules", "node_modules"],
  [".ssh", "credentials"],
  [".gnupg", "credentials"],
  [".aws", "credentials"],
  [".azure", "credentials"],
  [".gcloud", "credentials"],
  ["gcloud", "credentials"],
  [".kube", "credentials"],
  [".docker", "credentials"],
  [".password-store", "credentials"],
]);

const EXCLUDED_FILES: ReadonlyMap<string, MirrorExclusion> = new Map([
  [".git", "version control"], // a submodule's or linked worktree's pointer to the real git directory
  ...[
    ".npmrc", ".yarnrc.yml", ".pypirc", "credentials", "credentials.toml", "credentials.json",
    ".git-credentials", ".gitcookies", ".netrc", "_netrc", ".htpasswd",
    ".pgpass", ".my.cnf", ".mylogin.cnf",
    "application_default_credentials.json", ".boto", ".s3cfg", ".vault-token", "rclone.conf", ".rclone.conf",
    "kubeconfig", ".dockercfg", "credentials.tfrc.json", ".terraformrc", "terraform.rc",
    "auth.json", "settings-security.xml",
  ].map((name) => [name, "credentials"] as const),
]);

/** Every `.env*` name, a file or a directory. */
const ENVIRONMENT_NAME = /^\.env/;

const EXCLUDED_FILE_PATTERNS: ReadonlyArray<readonly [RegExp, MirrorExclusion]> = [
  [ENVIRONMENT_NAME, "environment file"],
  [/^id_(rsa|dsa|ecdsa|ed25519)/, "private key"],
  [/\.(pem|key|ppk|p12|pfx|jks|keystore|keytab)$/, "private key"],
  [/\.kubeconfig$/, "credentials"],
  [/\.kdbx$/, "credentials"],
  [/\.tfstate(\.backup)?$/, "credentials"],
];

/**
 * Whether a directory entry named `name` is left out of a mirror, and why; undefined means copy it.
 * `isDirectory` is the entry's own type (a symlink is judged by its link name as a file, and by its target's path
 * separately through `mirrorExcludesPath`).
 */
export function mirrorExclusion(name: string, isDirectory: boolean): MirrorExclusion | undefined {
  const lower = name.toLowerCase();
  if (isDirectory) return EXCLUDED_DIRECTORIES.get(lower) ?? (ENVIRONMENT_NAME.test(lower) ? "environment file" : undefined);
  const exact = EXCLUDED_FILES.get(lower);
  if (exact) return exact;
  for (const [pattern, reason] of EXCLUDED_FILE_PATTERNS) if (pattern.test(lower)) return reason;
  return undefined;
}

/**
 * Whether any component of a relative path (segments separated by `/` or the platform separator) is left out:
 * a symlink whose target lies inside an excluded entry is not recreated in the mirror.
 */
export function mirrorExcludesPath(relativePath: string): boolean {
  const segments = relativePath.split(/[\\/]+/).filter((segment) => segment !== "" && segment !== ".");
  return segments.some(
    (segment, index) =>
      mirrorExclusion(segment, true) !== undefined ||
      (index === segments.length - 1 && mirrorExclusion(segment, false) !== undefined),
  );
}
