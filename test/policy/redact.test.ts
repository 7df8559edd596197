// Redaction that holds: secrets under prefixed names in env, shell, YAML, JSON, TOML and flag forms, and the token
// shapes of the common issuers, are masked; ordinary words, types, references and code are left alone.
import { describe, expect, test } from "bun:test";
import { createRedactor, isSecretName, redactEventLine } from "../../src/policy/redact.ts";

const redact = createRedactor([]);
const V = "s3cr3tV4lue-9xQ"; // a value with no recognisable shape: only its name gives it away

describe("secret assignments, by the name they are stored under", () => {
  test.each([
    ["env", `DB_PASSWORD=${V}`, "DB_PASSWORD=[REDACTED]"],
    ["env, quoted", `GITHUB_TOKEN="${V}"`, 'GITHUB_TOKEN="[REDACTED]"'],
    ["shell export", `export AWS_SECRET_ACCESS_KEY=${V}`, "export AWS_SECRET_ACCESS_KEY=[REDACTED]"],
    ["shell, single quotes with spaces", `export MY_API_KEY='${V} with spaces'`, "export MY_API_KEY='[REDACTED]'"],
    ["YAML", `  client_secret: ${V}`, "  client_secret: [REDACTED]"],
    ["YAML, quoted", `password: "${V}"`, 'password: "[REDACTED]"'],
    ["JSON", `{"client_secret": "${V}", "id": 3}`, '{"client_secret": "[REDACTED]", "id": 3}'],
    ["JSON, camelCase", `{"apiKey":"${V}"}`, '{"apiKey":"[REDACTED]"}'],
    ["JSON-escaped inside a string", String.raw`{\"dbPassword\": \"${V}\"}`, String.raw`{\"dbPassword\": \"[REDACTED]\"}`],
    ["TOML", `private_key = "${V}"`, 'private_key = "[REDACTED]"'],
    ["flag", `--db-password=${V}`, "--db-password=[REDACTED]"],
    ["header", `X-Api-Key: ${V}`, "X-Api-Key: [REDACTED]"],
    ["URL query", `https://x.invalid/cb?access_token=${V}&state=1`, "https://x.invalid/cb?access_token=[REDACTED]&state=1"],
    ["Go", `token := "${V}"`, 'token := "[REDACTED]"'],
    ["suffix PASS", `MYSQL_PASS=${V}`, "MYSQL_PASS=[REDACTED]"],
    ["credentials", `GOOGLE_CREDENTIALS=${V}`, "GOOGLE_CREDENTIALS=[REDACTED]"],
    ["a patch line", `+SLACK_SIGNING_SECRET=${V}`, "+SLACK_SIGNING_SECRET=[REDACTED]"],
    ["after a JSON escape", String.raw`line\nDB_PASSWORD=${V}\n`, String.raw`line\nDB_PASSWORD=[REDACTED]\n`],
  ])("%s", (_form, input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test("several on one line and across lines", () => {
    expect(redact(`A_TOKEN=${V} B_SECRET=${V}x\nC_PASSWORD: ${V}y`)).toBe("A_TOKEN=[REDACTED] B_SECRET=[REDACTED]\nC_PASSWORD: [REDACTED]");
  });

  test("GitHub's `Authorization: token …` header, and prose about tokens left alone", () => {
    expect(redact(`Authorization: token ${"0123456789abcdef".repeat(2)}`)).toBe("Authorization: token [REDACTED]");
    expect(redact("the token authentication succeeded")).toBe("the token authentication succeeded");
  });

  test("a password in a URL", () => {
    expect(redact(`postgres://app:${V}@db.internal:5432/x`)).toBe("postgres://app:[REDACTED]@db.internal:5432/x");
  });
});

describe("token shapes", () => {
  const shapes: Array<[string, string]> = [
    ["npm", `npm_${"a1B2c3D4e5".repeat(3)}abcdef`],
    ["GitLab", "glpat-" + "Ab1_-Cd2Ef3Gh4Ij5Kl6"],
    ["Google API key", "AIza" + "SyA-1234567890abcdefghijklmnopqrstu"],
    ["Slack bot", "xoxb-" + "123456789012-abcdefABCDEF"],
    ["Slack user", "xoxp-" + "123456789012-abcdefABCDEF"],
    ["GitHub ghp", "ghp_" + "A".repeat(36)],
    ["GitHub gho", "gho_" + "b".repeat(36)],
    ["GitHub ghs", "ghs_" + "C1".repeat(18)],
    ["GitHub ghu", "ghu_" + "d2".repeat(18)],
    ["GitHub ghr", "ghr_" + "E3".repeat(18)],
    ["GitHub fine-grained", "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnop"],
    ["Stripe", "sk_live_" + "a1b2c3d4e5f6g7h8i9"],
    ["JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
    ["Google OAuth", "ya29." + "a0AfH6SMBx".repeat(3)],
  ];
  test.each(shapes)("%s, alone and inside text", (_issuer, token) => {
    expect(redact(token)).toBe("[REDACTED]");
    expect(redact(`use (${token}) now`)).toBe("use ([REDACTED]) now");
    expect(redact(String.raw`"msg":"x\n${token}"`)).toBe(String.raw`"msg":"x\n[REDACTED]"`);
  });
});

describe("ordinary text is left alone", () => {
  test.each([
    "the tokenizer=wordpiece splits text",
    "max_tokens: 4096",
    "TOKEN_URL=https://auth.example.invalid/token",
    "password_file: /run/secrets/db",
    "PWD=/home/user/project",
    "secretary: Alice Smith",
    "passwords are hashed with argon2",
    "token: string;",
    "apiKey?: string | undefined",
    "password: null",
    "password=$DB_PASSWORD",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "const token = getToken(request);",
    "password = self.settings.password",
    "    private_key: PrivateKey,",
    "    token: Option<String>,",
    "    secret: Vec<u8>,",
    "GITHUB_TOKEN=",
    "secret: <your-secret-here>",
    "risk-assessment-document-draft and task-abcdefghijklmnopqrs",
    "npm_config_cache=/tmp/npm",
    "the key: value pairs are parsed",
    "https://example.invalid:8080/path",
  ])("%s", (text) => {
    expect(redact(text)).toBe(text);
  });

  test("names", () => {
    for (const name of ["DB_PASSWORD", "GITHUB_TOKEN", "client_secret", "AWS_SECRET_ACCESS_KEY", "apiKey", "x-api-key", "PRIVATE_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "refreshToken", "DB_PASS"]) {
      expect(isSecretName(name)).toBe(true);
    }
    for (const name of ["tokenizer", "max_tokens", "TOKEN_URL", "PWD", "secretary", "passwords", "key", "monkey", "author", "AWS_ACCESS_KEY_ID", "bypass"]) {
      expect(isSecretName(name)).toBe(false);
    }
  });
});

describe("no input makes the scan slow", () => {
  test("a megabyte of name-like text without an assignment, and of unclosed quotes", () => {
    const t0 = performance.now();
    redact("a.".repeat(512 * 1024));
    redact(`token="${"x".repeat(1024 * 1024)}`);
    redact('k="v '.repeat(200 * 1024));
    redact("pass".repeat(256 * 1024));
    redact(`"key":"`.repeat(150 * 1024));
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe("redactEventLine: a stored event line", () => {
  const known = createRedactor(["hunter2-secret-value"]);
  test("a JSON line is redacted value by value, so a secret after an escape in the raw text is still masked", () => {
    const line = JSON.stringify({ type: "item.completed", item: { text: "line one\nhunter2-secret-value" } });
    expect(line).toContain("\\nhunter2");
    const stored = redactEventLine(line, known);
    expect(stored).not.toContain("hunter2-secret-value");
    expect(JSON.parse(stored).type).toBe("item.completed");
  });
  test("a line that is not JSON is redacted as text", () => {
    expect(redactEventLine("not json hunter2-secret-value", known)).not.toContain("hunter2-secret-value");
  });
});
