// What doctor reads from codex's --help and --version pages (src/doctor/codex-help.ts).
import { describe, expect, test } from "bun:test";
import { helpHasOption, helpHasSubcommand, parseCodexVersion } from "../../src/doctor/codex-help.ts";

describe("reading codex's help", () => {
  const help = "Options:\n  -c, --config <key=value>\n      --jsonl\n  -o, --output-last-message <FILE>\n      --skip-git-repo-check\n\nCommands:\n  resume  Resume a session\n";
  test("options are matched whole", () => {
    expect(helpHasOption(help, "--config")).toBe(true);
    expect(helpHasOption(help, "--output-last-message")).toBe(true);
    expect(helpHasOption(help, "--skip-git-repo-check")).toBe(true);
    expect(helpHasOption(help, "--json")).toBe(false);
    expect(helpHasOption(help, "--output-last")).toBe(false);
  });
  test("subcommands are matched in the command list only", () => {
    expect(helpHasSubcommand(help, "resume")).toBe(true);
    expect(helpHasSubcommand(help, "Resume")).toBe(false);
    expect(helpHasSubcommand("Usage: codex exec resume [OPTIONS]\n", "resume")).toBe(false);
  });
  test("versions", () => {
    expect(parseCodexVersion("codex-cli 0.169.0\n")).toBe("0.169.0");
    expect(parseCodexVersion("codex-cli 0.170.0-alpha.2\n")).toBe("0.170.0-alpha.2");
    expect(parseCodexVersion("something else 1.0")).toBeNull();
  });
});
