// The mirror leaves out what the docs say it leaves out: every `.env*` name, file or directory, and the
// credential files and directories of clouds and tools, at any depth. A sub-agent that lists its whole working
// directory sees none of them, and no marker of theirs reaches the result or the run record.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  afterCase, countBadInput, fakeCall, newToken, reportFiles, secretsIn, startServer, useScratch,
  type AdversarialServer,
} from "./harness.ts";

/** Left out, each holding a marker of its own. Directories are given by a file inside them. */
const LEFT_OUT = [
  ".env", ".env.local", ".env-production", ".env_local", "config/.env.test", ".envrc", ".envs/prod", ".environment",
  ".gcloud/credentials.db", ".config/gcloud/application_default_credentials.json", "gcloud/access_tokens.db",
  "application_default_credentials.json", "credentials.json", ".vault-token", ".s3cfg", ".boto", ".my.cnf",
  ".mylogin.cnf", ".pgpass", ".netrc", "_netrc", ".npmrc", ".yarnrc.yml", ".pypirc", ".git-credentials", ".gitcookies",
  ".docker/config.json", ".aws/credentials", ".azure/msal_token_cache.json", ".kube/config", "kubeconfig",
  "prod.kubeconfig", ".ssh/id_ed25519", ".gnupg/private-keys-v1.d/x.key", ".cargo/credentials.toml",
  ".gem/credentials", "auth.json", "rclone.conf", ".m2/settings-security.xml", ".terraform.d/credentials.tfrc.json",
  "infra/terraform.tfstate", "certs/server.pem", "certs/server.key", "id_rsa", "deploy/id_ecdsa", "keys/app.p12",
  "krb5.keytab", "vault.kdbx", "sub/dir/.env.staging",
];
/** Kept: near misses that are ordinary project files. */
const KEPT = ["README.md", "src/credentials.ts", "src/env.ts", "environment.yml", "docs/gcloud.md", "config/settings.json"];

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
const markers = new Map<string, string>();

beforeAll(async () => {
  for (const file of [...LEFT_OUT, ...KEPT]) {
    const marker = `${Math.random().toString(36).slice(2, 12)}-marker-${file.replace(/[^a-z0-9]/gi, "")}`;
    markers.set(file, marker);
    await mkdir(path.dirname(path.join(scratch.root, file)), { recursive: true });
    await writeFile(path.join(scratch.root, file), `${marker}\n`);
  }
  server = await startServer(scratch);
});

describe("mirror isolation leaves every listed secret file behind", () => {
  test("a sub-agent listing its whole mirror sees none of them, and the ordinary files are all there", async () => {
    countBadInput(LEFT_OUT.length);
    const token = newToken("mirror-secrets");
    const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { reportTree: true }, { isolation: "mirror" }) });
    expect(result.structuredContent.ok).toBe(true);
    const [treeText] = await reportFiles(scratch, "tree-");
    const tree: string[] = JSON.parse(treeText!);
    for (const file of KEPT) expect(tree).toContain(file);
    const leaked = LEFT_OUT.filter((file) => tree.includes(file));
    expect(leaked).toEqual([]);
    for (const dir of [".envs/", ".gcloud/", "gcloud/", ".aws/", ".kube/", ".docker/", ".ssh/", ".gnupg/"]) expect(tree.some((p) => p === dir || p.endsWith(`/${dir}`))).toBe(false);
    expect(result.structuredContent.notes.join("\n")).toContain("left out of the mirror");
    // Nothing of what was left out shows up in the result or the run record either.
    const leftOutMarkers = LEFT_OUT.map((f) => markers.get(f)!);
    const records = (await readdir(scratch.codexHome, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const recordText = (await Promise.all(records.map((e) => readFile(path.join(e.parentPath, e.name), "utf8")))).join("\n");
    expect(secretsIn(JSON.stringify(result) + recordText, leftOutMarkers, "mirror")).toEqual([]);
    await afterCase(server, token);
  });
});
