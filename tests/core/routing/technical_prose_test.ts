import assert from "node:assert/strict";
import {
  dropFunctionWords,
  insertTechnicalTokens,
  technicalProseWindows,
  type TechnicalTokens,
  technicalTokens,
} from "../../../core/routing/technical_prose.ts";
import { seededRandom } from "../../../core/routing/windows.ts";

const SOURCE = `import os

BUFFER_SIZE = 4096
_SC_CLK_TCK = 2

def read_config(path="/etc/app/config.ini", verbose=False):
    """Read the file; see https://docs.python.org/3/library/ for details."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", "-n")
    fd = os.open(path, os.O_RDONLY)
    return self.readLine(fd)
`;

const only = (kind: keyof TechnicalTokens, list: string[]): TechnicalTokens => ({
  identifiers: [],
  constants: [],
  dotted: [],
  paths: [],
  options: [],
  urls: [],
  [kind]: list,
});

Deno.test("technicalTokens() sorts code tokens by shape", () => {
  const t = technicalTokens([SOURCE]);
  assert.deepEqual(t.constants, ["BUFFER_SIZE", "_SC_CLK_TCK", "O_RDONLY"]);
  assert.deepEqual(t.identifiers, ["read_config", "add_argument", "readLine"]);
  assert.ok(t.dotted.includes("os.open") && t.dotted.includes("parser.add_argument"));
  assert.deepEqual(t.paths, ["/etc/app/config.ini"]);
  assert.deepEqual(t.options, ["--dry-run", "-n"]);
  assert.deepEqual(t.urls, ["https://docs.python.org/3/library/"]);
});

Deno.test("technicalTokens() keeps at most `limit` per shape, spread over the sources", () => {
  const sources = Array.from({ length: 100 }, (_, i) => `value_${i} = ${i}`);
  const t = technicalTokens(sources, 10);
  assert.equal(t.identifiers.length, 10);
  assert.equal(t.identifiers[0], "value_0");
  assert.equal(t.identifiers[9], "value_90");
});

Deno.test("insertTechnicalTokens() keeps every word and adds only tokens of the pool", () => {
  const text = "The call returns at once, and the caller must try again later.";
  const pool = technicalTokens([SOURCE]);
  const out = insertTechnicalTokens(text, pool, 0.5, seededRandom(4));
  const words = out.split(" ");
  const original = text.split(" ");
  // The original words appear in order; every other word is a token, maybe written as a call.
  let k = 0;
  for (const w of words) {
    if (w === original[k]) k++;
    else {
      const name = w.replace(/\(\d?\)$/, "");
      assert.ok(Object.values(pool).some((list) => list.includes(name)), w);
    }
  }
  assert.equal(k, original.length);
  assert.ok(words.length > original.length);
  assert.equal(insertTechnicalTokens(text, pool, 0, seededRandom(4)), text);
});

Deno.test("dropFunctionWords() removes function words of every language and nothing else", () => {
  const random = seededRandom(1);
  assert.equal(dropFunctionWords("Open the file and read it", 1, random), "Open file read ");
  assert.equal(dropFunctionWords("Le nom du fichier", 1, random), "nom fichier");
  assert.equal(dropFunctionWords("Die Datei und der Name", 1, random), "Datei Name");
  assert.equal(dropFunctionWords("Open the file", 0, random), "Open the file");
});

Deno.test("technicalProseWindows() keeps window lengths and is reproducible from its seed", () => {
  const windows = ["Set the mode of the file before you open it again.", "Le fichier est ouvert."];
  const pool = only("constants", ["O_NONBLOCK"]);
  const style = { minRate: 0.3, maxRate: 0.6, dropFunctionWords: 0.5 };
  const a = technicalProseWindows(windows, pool, style, 7);
  assert.deepEqual(a, technicalProseWindows(windows, pool, style, 7));
  assert.deepEqual(a.map((w) => w.length), windows.map((w) => w.length));
  assert.ok(a.some((w) => w.includes("O_NONBLOCK")));
});
