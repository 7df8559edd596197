/**
 * The SBOM: a CycloneDX 1.5 document of the npm packages that are really inside the bundle. build.ts feeds it
 * the bundler's metafile (the modules bundled, not the lockfile's every entry) and takes versions and
 * integrity from package-lock.json; a package that ships other packages compiled into its own files (the MCP SDK
 * does: ajv and its helpers) lists them as its nested components, read from the sourcemaps of its bundled files.
 * Pure: no file access, so it is tested on plain data.
 */
import { createHash } from "node:crypto";

export interface CycloneDxHash {
  alg: "SHA-256" | "SHA-512";
  content: string;
}

export interface CycloneDxComponent {
  type: "library" | "platform";
  "bom-ref": string;
  group?: string;
  name: string;
  version: string;
  purl: string;
  scope: "required";
  hashes: CycloneDxHash[];
  licenses?: { license: { id: string } }[] | { expression: string }[];
  externalReferences?: { type: "distribution"; url: string }[];
  properties?: { name: string; value: string }[];
  /** Packages compiled into this one's files: inside the bundle, but not installed from the registry on their own. */
  components?: CycloneDxVendoredComponent[];
}

/** A package found compiled into another's files: its name and version as its sourcemap shows them, no hash. */
export interface CycloneDxVendoredComponent {
  type: "library";
  "bom-ref": string;
  group?: string;
  name: string;
  version?: string;
  purl: string;
  scope: "required";
  properties: { name: string; value: string }[];
}

export interface CycloneDxBom {
  bomFormat: "CycloneDX";
  specVersion: "1.5";
  serialNumber: string;
  version: 1;
  metadata: {
    tools: { components: { type: "application"; name: string; version: string }[] };
    component: { type: "application"; "bom-ref": string; name: string; version: string; properties: { name: string; value: string }[] };
  };
  components: CycloneDxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

/** The parts of package-lock.json (lockfileVersion 2/3) this reads. */
export interface LockfilePackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
}
export interface Lockfile {
  packages: Record<string, LockfilePackage>;
}

export interface SbomInput {
  name: string;
  version: string;
  /** The release asset this SBOM describes. */
  asset: string;
  /** Paths of the metafile's `inputs` (relative to the build root; may start with `../`). */
  bundledPaths: readonly string[];
  lockfile: Lockfile;
  /** The project's own `dependencies` (package.json): the root's direct edges. */
  directDependencies: readonly string[];
  bunVersion: string;
  /** The Bun runtime an executable is compiled onto (absent for the `.mjs`). */
  runtime?: { package: string; version: string; integrity: string; sha256: string };
  /** By lockfile key: the packages compiled into that package's bundled files (see vendoredPackagesOf). */
  vendored?: Readonly<Record<string, readonly VendoredPackage[]>>;
}

/** A package compiled into another package's files; the version is absent when the path does not say it. */
export interface VendoredPackage {
  name: string;
  version?: string;
}

const PACKAGE_DIR = /(?:^|\/)(node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*)\//;

/** The lockfile key (`node_modules/a/node_modules/b`) of the package a bundled file belongs to, or null if first-party. */
export function packageDirOf(bundledPath: string): string | null {
  return PACKAGE_DIR.exec(bundledPath.replace(/\\/g, "/"))?.[1] ?? null;
}

function packageNameOf(lockKey: string): string {
  return lockKey.slice(lockKey.lastIndexOf("node_modules/") + "node_modules/".length);
}

/** Node's lookup: the nearest `node_modules/<dep>` at or above `fromKey`, as the lockfile spells it. */
function resolveLockKey(lockfile: Lockfile, fromKey: string, dep: string): string | null {
  let base = fromKey;
  for (;;) {
    const candidate = base === "" ? `node_modules/${dep}` : `${base}/node_modules/${dep}`;
    if (lockfile.packages[candidate]) return candidate;
    if (base === "") return null;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut === -1 ? "" : base.slice(0, cut);
  }
}

export function purlOf(name: string, version: string | undefined): string {
  const encoded = name.startsWith("@") ? `%40${name.slice(1)}` : name;
  return version === undefined ? `pkg:npm/${encoded}` : `pkg:npm/${encoded}@${version}`;
}

/** npm's `sha512-<base64>` → CycloneDX's hex. */
export function integrityToHash(integrity: string): CycloneDxHash | null {
  const match = /^sha(256|512)-([A-Za-z0-9+/=]+)$/.exec(integrity);
  if (!match) return null;
  return { alg: match[1] === "512" ? "SHA-512" : "SHA-256", content: Buffer.from(match[2]!, "base64").toString("hex") };
}

/** pnpm's store directory for a package: `…/node_modules/.pnpm/<name@version_peers>/node_modules/` just before it. */
const PNPM_STORE_DIR = /node_modules\/\.pnpm\/([^/]+)\/node_modules\/$/;

/**
 * The packages a bundled file was compiled from, by the `sources` of that file's sourcemap: a path through a
 * `node_modules` directory names one (the innermost, as Node resolves it); pnpm's store directory
 * (`@scope+name@1.2.3_peers`) gives its version. Sorted, one entry per name and version.
 */
export function vendoredPackagesOf(sources: readonly string[]): VendoredPackage[] {
  const found = new Map<string, VendoredPackage>();
  for (const source of sources) {
    const path = source.replace(/\\/g, "/");
    const at = path.lastIndexOf("node_modules/");
    if (at === -1) continue;
    const name = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path.slice(at))?.[1];
    if (name === undefined || name.startsWith(".")) continue;
    const storeDir = PNPM_STORE_DIR.exec(path.slice(0, at + "node_modules/".length))?.[1];
    const prefix = `${name.replace("/", "+")}@`;
    const version = storeDir?.startsWith(prefix) ? storeDir.slice(prefix.length).split("_")[0] : undefined;
    found.set(`${name}@${version ?? ""}`, version ? { name, version } : { name });
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...found.values()].sort((a, b) => order(a.name, b.name) || order(a.version ?? "", b.version ?? ""));
}

export function buildSbom(input: SbomInput): CycloneDxBom {
  const keys = bundledPackageKeys(input.bundledPaths);
  const components = keys.map((key) => libraryComponent(key, input.lockfile.packages[key], input.vendored?.[key] ?? []));
  const refOf = new Map(keys.map((key, i) => [key, components[i]!["bom-ref"]]));
  const rootRef = `${input.name}@${input.version}`;
  const dependencies = dependencyGraph(input, rootRef, keys, refOf);
  if (input.runtime) {
    const runtime = runtimeComponent(input.runtime);
    components.push(runtime);
    dependencies[0]!.dependsOn.push(runtime["bom-ref"]);
  }
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: serialNumberOf(input.asset, rootRef, components, dependencies),
    version: 1,
    metadata: metadataOf(input, rootRef),
    components,
    dependencies,
  };
}

/** The lockfile keys of the packages the bundle really contains, sorted so the SBOM does not depend on bundling order. */
function bundledPackageKeys(bundledPaths: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const path of bundledPaths) {
    const key = packageDirOf(path);
    if (key !== null) keys.add(key);
  }
  return [...keys].sort();
}

function libraryComponent(key: string, entry: LockfilePackage | undefined, vendored: readonly VendoredPackage[]): CycloneDxComponent {
  const name = packageNameOf(key);
  if (!entry?.version) throw new Error(`bundled package ${name} (${key}) is not in package-lock.json: run npm install`);
  // Security: a devDependency inside the bundle would ship code the SBOM and the lockfile audit call dev-only.
  if (entry.dev) throw new Error(`bundled package ${name} is a devDependency: move it to "dependencies" or stop importing it`);
  const purl = purlOf(name, entry.version);
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  const hash = entry.integrity ? integrityToHash(entry.integrity) : null;
  const component: CycloneDxComponent = {
    type: "library",
    "bom-ref": purl,
    ...(slash > 0 ? { group: name.slice(0, slash) } : {}),
    name: slash > 0 ? name.slice(slash + 1) : name,
    version: entry.version,
    purl,
    scope: "required",
    hashes: hash ? [hash] : [],
  };
  if (entry.license) component.licenses = /^[A-Za-z0-9.+-]+$/.test(entry.license) ? [{ license: { id: entry.license } }] : [{ expression: entry.license }];
  if (entry.resolved) component.externalReferences = [{ type: "distribution", url: entry.resolved }];
  if (vendored.length > 0) component.components = vendored.map((v) => vendoredComponent(v, name, entry.version!, purl));
  return component;
}

function vendoredComponent(vendored: VendoredPackage, inName: string, inVersion: string, inPurl: string): CycloneDxVendoredComponent {
  const purl = purlOf(vendored.name, vendored.version);
  const slash = vendored.name.startsWith("@") ? vendored.name.indexOf("/") : -1;
  return {
    type: "library",
    "bom-ref": `${inPurl}#${purl}`,
    ...(slash > 0 ? { group: vendored.name.slice(0, slash) } : {}),
    name: slash > 0 ? vendored.name.slice(slash + 1) : vendored.name,
    ...(vendored.version ? { version: vendored.version } : {}),
    purl,
    scope: "required",
    properties: [{ name: "codex-subagents:compiled-into", value: `${inName}@${inVersion} (its sourcemaps name this package; it has no tarball or lockfile entry of its own)` }],
  };
}

/** The root's edges to its direct dependencies, then each bundled package's edges, all as the bundle resolves them. */
function dependencyGraph(input: SbomInput, rootRef: string, keys: readonly string[], refOf: ReadonlyMap<string, string>): CycloneDxBom["dependencies"] {
  const bundledRefs = (fromKey: string, deps: readonly string[]) =>
    deps
      .map((dep) => resolveLockKey(input.lockfile, fromKey, dep))
      .flatMap((key) => (key !== null && refOf.has(key) ? [refOf.get(key)!] : []))
      .sort();
  return [
    { ref: rootRef, dependsOn: bundledRefs("", input.directDependencies) },
    ...keys.map((key) => ({
      ref: refOf.get(key)!,
      dependsOn: bundledRefs(key, Object.keys(input.lockfile.packages[key]!.dependencies ?? {})),
    })),
  ];
}

function runtimeComponent(runtime: NonNullable<SbomInput["runtime"]>): CycloneDxComponent {
  const purl = purlOf(runtime.package, runtime.version);
  const hash = integrityToHash(runtime.integrity);
  return {
    type: "platform",
    "bom-ref": purl,
    group: "@oven",
    name: runtime.package.replace(/^@oven\//, ""),
    version: runtime.version,
    purl,
    scope: "required",
    hashes: hash ? [hash] : [],
    licenses: [{ license: { id: "MIT" } }],
    properties: [
      { name: "codex-subagents:runtime-binary-sha256", value: runtime.sha256 },
      { name: "codex-subagents:note", value: "the Bun runtime the program is compiled onto; the libraries inside Bun are not listed" },
    ],
  };
}

// Derived, not random: the same build must produce the same bytes.
function serialNumberOf(asset: string, rootRef: string, components: readonly CycloneDxComponent[], dependencies: CycloneDxBom["dependencies"]): string {
  const digest = createHash("sha256").update(JSON.stringify([asset, rootRef, components, dependencies])).digest("hex");
  return `urn:uuid:${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${((parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16)}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
}

function metadataOf(input: SbomInput, rootRef: string): CycloneDxBom["metadata"] {
  return {
    tools: { components: [{ type: "application", name: "bun", version: input.bunVersion }] },
    component: {
      type: "application",
      "bom-ref": rootRef,
      name: input.name,
      version: input.version,
      properties: [{ name: "codex-subagents:asset", value: input.asset }],
    },
  };
}
