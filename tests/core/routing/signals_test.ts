import assert from "node:assert/strict";
import { looksLikeCode, SIGNAL_NAMES, signalIndices } from "../../../core/routing/text_signals.ts";

const names = (text: string) => signalIndices(text).map((i) => SIGNAL_NAMES[i]!);

Deno.test("signalIndices() sees code structure in Python and none in technical prose", () => {
  const code = names("import os\n\ndef main(argv):\n    path = os.path.join(argv[0], 'x')\n");
  for (
    const s of [
      "indented_line",
      "call",
      "attribute_access",
      "operator",
      "brackets",
      "keyword_line_start",
    ]
  ) {
    assert.ok(code.includes(s), s);
  }
  const prose = names(
    "To edit XML files, use your preferred text editor. You must set the editor for the project.",
  );
  for (const s of ["indented_line", "call", "operator", "brackets", "snake_case"]) {
    assert.ok(!prose.includes(s), s);
  }
  assert.ok(prose.includes("sentence_boundary") && prose.includes("word:the"));
});

Deno.test("signalIndices() returns ascending indices within the signal table", () => {
  const idx = signalIndices("Der Hund und die Katze schlafen, aber nicht im Haus.");
  for (let i = 1; i < idx.length; i++) assert.ok(idx[i]! > idx[i - 1]!);
  assert.ok(idx.every((i) => i >= 0 && i < SIGNAL_NAMES.length));
  assert.ok(idx.map((i) => SIGNAL_NAMES[i]).includes("word:und"));
});

Deno.test("looksLikeCode() flags assignments and doctests but not sentences", () => {
  assert.ok(looksLikeCode(">>> f(1)"));
  assert.ok(looksLikeCode("list = d.keys()"));
  assert.ok(!looksLikeCode("Return the number of items in the list."));
});

Deno.test("signalIndices() recognises a one-line Python statement as code", () => {
  for (const line of ["import numpy as np", "from os import path", "def f(x): return x"]) {
    assert.ok(names(line).includes("python_statement"), line);
  }
  for (const line of ["import duties were raised", "From the AP comes this story"]) {
    assert.ok(!names(line).includes("python_statement"), line);
  }
});

Deno.test("signalIndices() sees indentation even when a window starts or ends inside it", () => {
  for (const window of ["          return self._data", "x = 1\t# tab", "items =     [1, 2]"]) {
    assert.ok(names(window).includes("space_run"), window);
  }
  for (const window of ["the end.  It was late", "Le chat dort. Il fait nuit."]) {
    assert.ok(!names(window).includes("space_run"), window);
  }
});

Deno.test("signalIndices() sees the long line of prose that quotes code, and none in code", () => {
  const prose =
    "Use the --verbose option to print /etc/passwd; if O_NONBLOCK is set, read_file() returns at once.";
  assert.ok(names(prose).includes("long_line"));
  const code =
    "def f(x_y): return x_y\n\nclass Reader:\n    def read(self, path):\n        return open(path).read()\n";
  assert.ok(code.length > 80 && !names(code).includes("long_line"));
  // The threshold: 80 characters without a line break (PEP 8 lines stop at 79).
  assert.ok(!names("word ".repeat(16).slice(0, 79)).includes("long_line"));
  assert.ok(names("word ".repeat(16)).includes("long_line"));
});
