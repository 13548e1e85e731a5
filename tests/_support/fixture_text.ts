import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** The concatenated texts of a committed fixture corpus (`fixtures/corpus/<lang>.jsonl.gz`). */
export function readFixtureText(lang: string, maxChars = 20_000): Promise<string> {
  const url = new URL(`../../fixtures/corpus/${lang}.jsonl.gz`, import.meta.url);
  const lines = gunzipSync(readFileSync(url)).toString("utf8").split("\n");
  let text = "";
  for (const line of lines) {
    if (!line.trim()) continue;
    text += (JSON.parse(line) as { text: string }).text + "\n";
    if (text.length >= maxChars) break;
  }
  return Promise.resolve(text.slice(0, maxChars));
}
