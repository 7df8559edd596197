import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { mirrorExcludesPath, mirrorExclusion } from "../../src/workspace/mirror-filter.ts";
import { exists, removeAll, tempDir, workspaceBase } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

const silent = { warn: () => {}, debug: () => {} };
const temps: string[] = [];
afterAll(() => removeAll(...temps));

function newTemp(prefix?: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

function write(root: string, path: string, content = `content of ${path}\n`): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** Every entry under `root`, relative, with a type suffix: "/" directory, "@" symlink. */
function listTree(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (entry.isSymbolicLink()) found.push(`${rel}@`);
      else if (entry.isDirectory()) {
        found.push(`${rel}/`);
        walk(path);
      } else found.push(rel);
    }
  };
  walk(root);
  return found.sort();
}

const EXCLUDED_FILES = [
  ".git/config",
  ".git/HEAD",
  "vendor/lib/.git", // a submodule's pointer file
  ".hg/hgrc",
  ".svn/entries",
  ".env",
  ".env.local",
  ".env.production",
  "config/.env.test",
  ".envrc",
  "node_modules/pkg/index.js",
  "packages/app/node_modules/dep/index.js",
  "certs/server.pem",
  "certs/server.key",
  "certs/client.p12",
  "certs/client.pfx",
  "certs/store.jks",
  "android/release.keystore",
  "keys/putty.ppk",
  "id_rsa",
  "id_rsa.pub",
  "deploy/id_ed25519",
  "deploy/id_ecdsa_work",
  "deploy/id_dsa",
  ".npmrc",
  ".yarnrc.yml",
  ".pypirc",
  ".netrc",
  "_netrc",
  ".git-credentials",
  ".pgpass",
  "web/.htpasswd",
  ".dockercfg",
  ".terraformrc",
  "infra/terraform.tfstate",
  "infra/terraform.tfstate.backup",
  "secrets.kdbx",
  ".ssh/config",
  ".gnupg/pubring.kbx",
  ".aws/credentials",
  ".azure/config",
  ".kube/config",
  ".docker/config.json",
  ".password-store/x.gpg",
  "CERTS/UPPER.PEM",
  // every .env* name, and cloud and tool credentials
  ".env-production",
  ".env_local",
  ".envs/prod.txt",
  "app/.env/settings",
  ".environment",
  ".gcloud/credentials.db",
  ".config/gcloud/application_default_credentials.json",
  "gcloud/access_tokens.db",
  "application_default_credentials.json",
  "credentials.json",
  ".vault-token",
  ".s3cfg",
  ".boto",
  ".my.cnf",
  ".mylogin.cnf",
  ".gitcookies",
  ".cargo/credentials.toml",
  ".gem/credentials",
  "auth.json",
  "kubeconfig",
  "cluster.kubeconfig",
  "rclone.conf",
  ".m2/settings-security.xml",
  ".terraform.d/credentials.tfrc.json",
  "krb5.keytab",
];

const COPIED_FILES = [
  "README.md",
  "src/index.ts",
  "src/deep/er/file.txt",
  "environment.ts", // not .env
  "docs/keys.md", // a .md about keys, not a key
  "src/keyboard.ts",
  "publickey.txt",
  ".gitignore",
  ".github/workflows/ci.yml",
  "env/settings.json", // a directory named env, not .env
  "src/credentials.ts", // code about credentials, not a credentials file
  "docs/gcloud.md",
  "my.cnf.example.txt",
];

describe("mirror isolation", () => {
  test("copies the tree and leaves out every listed kind of secret and metadata", async () => {
    const source = join(newTemp("ws-mirror-src-"), "project");
    for (const path of [...EXCLUDED_FILES, ...COPIED_FILES]) write(source, path);
    write(source, "bin/tool.sh", "#!/bin/sh\n");
    chmodSync(join(source, "bin/tool.sh"), 0o755);

    const workspace = await prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent });
    try {
      expect(workspace.mode).toBe("mirror");
      expect(workspace.workingDir.endsWith("/project")).toBe(true);
      expect(workspace.workingDir.startsWith(source)).toBe(false);
      const copied = listTree(workspace.workingDir).filter((entry) => !entry.endsWith("/"));
      expect(copied).toEqual([...COPIED_FILES, "bin/tool.sh"].sort());
      expect(readFileSync(join(workspace.workingDir, "src/deep/er/file.txt"), "utf8")).toBe(
        "content of src/deep/er/file.txt\n",
      );
      expect(statSync(join(workspace.workingDir, "bin/tool.sh")).mode & 0o111).not.toBe(0);
      const notes = workspace.notes.join("\n");
      expect(notes).toContain("left out of the mirror");
      expect(notes).toContain("environment file");
      expect(notes).toContain("private key");
      expect(await workspace.collectPatch()).toBeUndefined();
    } finally {
      const base = workspaceBase(workspace.workingDir);
      await workspace.cleanup();
      await workspace.cleanup(); // idempotent
      expect(exists(base)).toBe(false);
    }
  });

  test("symlinks: in-tree ones become relative links inside the mirror; outside, dangling and secret ones are skipped", async () => {
    const outside = newTemp("ws-mirror-outside-");
    writeFileSync(join(outside, "secret.txt"), "TOP SECRET\n");
    const source = join(newTemp("ws-mirror-src-"), "project");
    write(source, "docs/AGENTS.md", "agents\n");
    write(source, ".env", "KEY=1\n");
    write(source, "lib/real/mod.ts", "export {};\n");
    symlinkSync("docs/AGENTS.md", join(source, "CLAUDE.md")); // relative, in tree
    symlinkSync(join(source, "docs", "AGENTS.md"), join(source, "absolute-in-tree.md")); // absolute, in tree
    symlinkSync("real", join(source, "lib", "alias")); // directory link, in tree
    symlinkSync(join(outside, "secret.txt"), join(source, "absolute-out.txt"));
    symlinkSync(`../../${outside.split("/").slice(-1)[0]}/secret.txt`, join(source, "docs", "relative-out.txt"));
    symlinkSync(outside, join(source, "outside-dir"));
    symlinkSync("does/not/exist", join(source, "dangling"));
    symlinkSync("loop-b", join(source, "loop-a"));
    symlinkSync("loop-a", join(source, "loop-b"));
    symlinkSync(".env", join(source, "settings")); // points at an excluded file
    // A chain that only escapes when resolved step by step: `up` -> "..", then `escape` -> "up/../x".
    mkdirSync(join(source, "d"));
    symlinkSync("..", join(source, "d", "up"));
    symlinkSync("up/../x", join(source, "d", "escape"));
    writeFileSync(join(source, "..", "x"), "beside the project\n");

    const workspace = await prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent });
    try {
      const mirror = workspace.workingDir;
      expect(listTree(mirror)).toEqual(
        [
          "CLAUDE.md@",
          "absolute-in-tree.md@",
          "d/",
          "d/up@",
          "docs/",
          "docs/AGENTS.md",
          "lib/",
          "lib/alias@",
          "lib/real/",
          "lib/real/mod.ts",
        ].sort(),
      );
      for (const link of ["CLAUDE.md", "absolute-in-tree.md", "lib/alias", "d/up"]) {
        const text = readlinkSync(join(mirror, link));
        expect(isAbsolute(text)).toBe(false);
        const resolved = realpathSync(join(mirror, link));
        expect(resolved === mirror || resolved.startsWith(`${mirror}/`)).toBe(true);
      }
      expect(readFileSync(join(mirror, "absolute-in-tree.md"), "utf8")).toBe("agents\n");
      expect(readFileSync(join(mirror, "lib/alias/mod.ts"), "utf8")).toBe("export {};\n");
      expect(workspace.notes.join("\n")).toContain("symlink outside cwd");
    } finally {
      await workspace.cleanup();
    }
  });

  test("sockets and FIFOs are skipped, not opened (a FIFO would hang the copy)", async () => {
    const source = join(newTemp("ws-mirror-src-"), "project");
    write(source, "keep.txt");
    const fifo = spawnSync("mkfifo", [join(source, "pipe")]);
    let server: Server | undefined;
    const socketPath = join(source, "sock");
    await new Promise<void>((resolve) => {
      server = createServer().listen(socketPath, () => resolve());
    });
    try {
      expect(lstatSync(socketPath).isSocket()).toBe(true);
      const workspace = await prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent });
      expect(listTree(workspace.workingDir)).toEqual(["keep.txt"]);
      expect(workspace.notes.join("\n")).toContain(fifo.status === 0 ? "special file: 2" : "special file: 1");
      await workspace.cleanup();
    } finally {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    }
  });

  test("a tree over the entry or byte limit is refused with the limits and the alternatives, and nothing is left", async () => {
    const source = join(newTemp("ws-mirror-src-"), "big");
    for (let index = 0; index < 20; index += 1) write(source, `f${index}.txt`, "x".repeat(100));
    const before = new Set(readdirSync(tmpdir()));
    const tooMany = prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent, mirrorLimits: { maxEntries: 5 } });
    await expect(tooMany).rejects.toBeInstanceOf(WorkspaceError);
    await expect(tooMany).rejects.toMatchObject({ message: expect.stringMatching(/too large to mirror: more than 5 entries/), hint: expect.stringContaining('isolation "worktree"') });
    const tooBig = prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent, mirrorLimits: { maxBytes: 1000 } });
    await expect(tooBig).rejects.toThrow(/too large to mirror: more than 1000 B/);
    const created = readdirSync(tmpdir()).filter(
      (name) => name.startsWith("codex-subagents-mirror-") && !before.has(name),
    );
    expect(created).toEqual([]);
  });

  test("an aborted copy rejects and removes the partial mirror", async () => {
    const source = join(newTemp("ws-mirror-src-"), "project");
    write(source, "a.txt");
    const before = new Set(readdirSync(tmpdir()));
    const controller = new AbortController();
    controller.abort(new Error("cancelled by test"));
    await expect(
      prepareWorkspace({ git: hostGit, mode: "mirror", cwd: source, logger: silent, signal: controller.signal }),
    ).rejects.toThrow("cancelled by test");
    const created = readdirSync(tmpdir()).filter((name) => name.startsWith("codex-subagents-mirror-") && !before.has(name));
    expect(created).toEqual([]);
  });
});

describe("isolation none", () => {
  test("works in cwd itself, with no patch, notes or cleanup", async () => {
    const source = newTemp("ws-none-");
    const workspace = await prepareWorkspace({ git: hostGit, mode: "none", cwd: source });
    expect(workspace.workingDir).toBe(source);
    expect(workspace.notes).toEqual([]);
    expect(await workspace.collectPatch()).toBeUndefined();
    await workspace.cleanup();
    expect(exists(source)).toBe(true);
  });
});

describe("mirror exclusion list", () => {
  test("names are judged by kind and case-insensitively", () => {
    expect(mirrorExclusion(".git", true)).toBe("version control");
    expect(mirrorExclusion(".git", false)).toBe("version control");
    expect(mirrorExclusion("node_modules", true)).toBe("node_modules");
    expect(mirrorExclusion("node_modules", false)).toBeUndefined();
    expect(mirrorExclusion(".ENV", false)).toBe("environment file");
    expect(mirrorExclusion("Server.PEM", false)).toBe("private key");
    expect(mirrorExclusion(".environment", false)).toBe("environment file"); // .env* as the docs say
    expect(mirrorExclusion(".envs", true)).toBe("environment file");
    expect(mirrorExclusion("environment", true)).toBeUndefined();
    expect(mirrorExclusion("keys.md", false)).toBeUndefined();
  });

  test("a path is excluded when any component is", () => {
    expect(mirrorExcludesPath("a/.git/config")).toBe(true);
    expect(mirrorExcludesPath("config/.env")).toBe(true);
    expect(mirrorExcludesPath("deploy/.ssh/id_rsa")).toBe(true);
    expect(mirrorExcludesPath("src/app.ts")).toBe(false);
  });
});
