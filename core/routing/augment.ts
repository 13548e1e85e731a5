/**
 * Prose from code: the English of Python docstrings and comments, taken out of the code layout.
 *
 * Why: trained on novels (en) and the standard library (py), a router learns that modern
 * technical vocabulary ("file", "option", "default", URLs) means Python, because the only place
 * the training data uses it is code comments. Adding that same English, re-flowed as plain
 * paragraphs, to the English class (at a reduced sample weight) makes those words evidence for
 * English too, so the decision between prose and code rests on what actually differs: layout,
 * syntax and identifier shapes. Only training-split code is used.
 *
 * @module
 */

import { looksLikeCode } from "./text_signals.ts";

const DOCSTRING = /("""|''')([\s\S]*?)\1/g;
const COMMENT_LINE = /^[ \t]*#+ ?(.*)$/;

/**
 * The prose paragraphs inside Python source: docstrings and runs of comment lines, dedented and
 * re-flowed (the lines of a paragraph joined by single spaces). Lines that look like code
 * (commented-out code, doctests, reST rules; see `looksLikeCode`) end a paragraph and are dropped;
 * paragraphs shorter than `minChars` or with fewer than half letters are dropped too.
 *
 * @param source Python source text.
 * @param minChars Shortest paragraph kept.
 * @returns Re-flowed paragraphs in source order (docstrings first, then comments).
 *
 * @example
 * ```ts
 * import { proseFromCode } from "./augment.ts";
 * const src = 'def f():\n    """Return the answer to the\n    great question."""\n    return 42\n';
 * console.assert(proseFromCode(src, 10)[0] === "Return the answer to the great question.");
 * ```
 */
export function proseFromCode(source: string, minChars = 40): string[] {
  const blocks: string[] = [];
  for (const m of source.matchAll(DOCSTRING)) blocks.push(m[2]!);
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) blocks.push(run.join("\n"));
    run = [];
  };
  for (const line of source.split("\n")) {
    const m = COMMENT_LINE.exec(line);
    if (m && m[1]!.trim() !== "") run.push(m[1]!);
    else flush();
  }
  flush();
  const out: string[] = [];
  for (const block of blocks) {
    let paragraph: string[] = [];
    const emit = () => {
      const text = paragraph.join(" ");
      const letters = text.match(/\p{L}/gu)?.length ?? 0;
      if (text.length >= minChars && letters >= text.length / 2) out.push(text);
      paragraph = [];
    };
    for (const raw of block.split("\n")) {
      const line = raw.trim();
      // A blank line or a code-looking line ends the paragraph.
      if (line === "" || looksLikeCode(line)) emit();
      else paragraph.push(line);
    }
    emit();
  }
  return out;
}
