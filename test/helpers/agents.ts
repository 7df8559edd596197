import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "./paths.ts";

/** The first line of a starter agent's persona (the body after its frontmatter): proof it reached the model. */
export async function starterPersonaFirstLine(name: string): Promise<string> {
  const markdown = await readFile(path.join(repoRoot, "agents", `${name}.md`), "utf8");
  return markdown.split("---")[2]!.trim().split("\n")[0]!;
}
