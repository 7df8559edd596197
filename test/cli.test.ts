import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { main } from "../src/cli.ts";

let repo: string;

beforeAll(async () => {
  repo = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-cli-")));
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe("cli", () => {
  test("serve --help prints the usage and exits 0", async () => {
    let out = "";
    let err = "";
    const code = await main(["serve", "--help"], { out: (t) => void (out += t), err: (t) => void (err += t) }, {}, repo);
    expect(code).toBe(0);
    expect(out).toContain("Server options");
    expect(err).toBe("");
  });
});
