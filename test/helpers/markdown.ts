// Fenced code blocks of the docs, for the tests that run what the docs show.

export interface Fence {
  lang: string;
  text: string;
  /** NAME from `<!-- snippet: NAME -->` on the line before the fence, or null. */
  marker: string | null;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Every fenced block of a Markdown file; an indented fence (in a list) closes at the same indent, which is removed. */
export function markdownFences(file: string, markdown: string): Fence[] {
  const lines = markdown.split("\n");
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    const marker = i > 0 ? /^\s*<!-- snippet: ([a-z0-9-]+) -->\s*$/.exec(lines[i - 1]!)?.[1] ?? null : null;
    found.push({ lang: open[2]!, text: body.join("\n"), marker, line: i + 1 });
    i = j;
  }
  return found;
}
