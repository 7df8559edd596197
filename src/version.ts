import pkg from "../package.json" with { type: "json" };

/** The package version: `serverInfo.version`, `--version`, run records. */
export const VERSION: string = pkg.version;
export const PRODUCT_NAME = "codex-subagents";
