import assert from "node:assert/strict";
import { isPythonText, pythonTextMask } from "../../../core/routing/python_text.ts";

/** The masked characters of `src` as a string (code replaced by "."), for readable assertions. */
function shown(src: string): string {
  const m = pythonTextMask(src);
  return [...src].map((ch, i) => m[i] ? ch : ".").join("");
}

Deno.test("pythonTextMask() marks comments and string literals, not the code around them", () => {
  assert.equal(shown('x = "a#b"  # note'), '...."a#b"..# note');
  assert.equal(shown("f('it\\'s', y)"), "..'it\\'s'....");
  // A triple-quoted string runs across lines and may hold single quotes.
  const doc = 'def f():\n    """It\'s "one"\n    two."""\n    return 1';
  const m = shown(doc);
  assert.equal(m.slice(m.indexOf('"""'), m.lastIndexOf('"""') + 3), '"""It\'s "one"\n    two."""');
  assert.ok(!m.includes("return"));
});

Deno.test("pythonTextMask() ends an unterminated one-line string at the end of its line", () => {
  assert.equal(shown("s = 'open\nx = 1"), "....'open......");
});

Deno.test("isPythonText() is true only for windows without a code character", () => {
  const src = 'def f():\n    """Return the answer to the question."""\n    return 42\n';
  const m = pythonTextMask(src);
  const inside = src.indexOf("Return");
  assert.ok(isPythonText(src, m, inside, inside + 20));
  // Whitespace between a literal and a comment is not code.
  const two = '"""a"""\n    # b';
  assert.ok(isPythonText(two, pythonTextMask(two), 0, two.length));
  assert.ok(!isPythonText(src, m, 0, 12));
  assert.ok(!isPythonText(src, m, src.indexOf("return") - 4, src.indexOf("return") + 3));
});
