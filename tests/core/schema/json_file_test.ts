import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import {
  checkJson,
  fieldPath,
  fields,
  finite,
  integer,
  parseJsonFile,
  parseJsonText,
  readJsonFile,
  sha256Hex,
  someFields,
} from "../../../core/schema/mod.ts";

/** The one line `checkJson` throws for `value`, without the `Cannot load … "f.json": ` prefix. */
function problem(schema: z.ZodType, value: unknown): string {
  try {
    checkJson(schema, value, "thing", "f.json");
  } catch (error) {
    assert.ok(error instanceof SyntaxError);
    const prefix = 'Cannot load thing "f.json": ';
    assert.ok(error.message.startsWith(prefix), error.message);
    assert.ok(!error.message.includes("\n"), "one line");
    return error.message.slice(prefix.length);
  }
  assert.fail(`accepted ${JSON.stringify(value)}`);
}

const model = fields({
  layers: integer(1),
  eps: finite({ min: 0, open: "min" }),
  decay: z.boolean(),
  kind: z.enum(["a", "b"]),
  nested: z.object({ bias: z.array(finite()), sha256: sha256Hex }),
});
const good = {
  layers: 2,
  eps: 1e-5,
  decay: true,
  kind: "a",
  nested: { bias: [0, 1], sha256: "0".repeat(64) },
};

Deno.test("checkJson() accepts a valid value and returns it", () => {
  assert.deepEqual(checkJson(model, good, "thing", "f.json"), good);
});

Deno.test("checkJson() names the field, the rule and the value found", () => {
  const cases: [unknown, string][] = [
    [{ ...good, layers: "two" }, 'layers must be an integer ≥ 1, got "two"'],
    [{ ...good, layers: 1.5 }, "layers must be an integer ≥ 1, got 1.5"],
    [{ ...good, layers: 0 }, "layers must be an integer ≥ 1, got 0"],
    [{ ...good, eps: 0 }, "eps must be a finite number > 0, got 0"],
    [{ ...good, eps: JSON.parse("1e999") }, "eps must be a finite number > 0, got Infinity"],
    [{ ...good, decay: "yes" }, 'decay must be true or false, got "yes"'],
    [{ ...good, kind: "c" }, 'kind must be one of "a", "b", got "c"'],
    [
      { ...good, nested: { ...good.nested, bias: [0, -1e999] } },
      "nested.bias[1] must be a finite number, got -Infinity",
    ],
    [
      { ...good, nested: { ...good.nested, sha256: "xyz" } },
      'nested.sha256 must be a sha256 (64 hex digits), got "xyz"',
    ],
    [{ ...good, nested: [] }, "nested must be an object, got an empty list"],
    [[1, 2], "the file must be an object, got a list of 2"],
  ];
  for (const [value, expected] of cases) assert.equal(problem(model, value), expected);
});

Deno.test("checkJson() calls an absent field missing and counts the other problems", () => {
  const { eps: _, ...noEps } = good;
  assert.equal(problem(model, noEps), "eps is missing");
  assert.equal(
    problem(model, { ...noEps, layers: 0 }),
    "layers must be an integer ≥ 1, got 0 (and 1 more problem)",
  );
});

Deno.test("checkJson() puts an unknown field first and lists the allowed ones", () => {
  const { layers: _, ...typo } = { ...good, layer: 2 };
  assert.equal(
    problem(model, typo),
    'unknown field "layer" (allowed: layers, eps, decay, kind, nested) (and 1 more problem)',
  );
  assert.equal(
    problem(someFields({ layers: integer(1) }), { layers: 1, heads: 2, dim: 3 }),
    'unknown fields "heads", "dim" (allowed: layers)',
  );
});

Deno.test("someFields() lets every field be left out but not mistyped", () => {
  const overrides = someFields({ layers: integer(1), eps: finite() });
  assert.deepEqual(checkJson(overrides, {}, "thing", "f.json"), {});
  assert.equal(problem(overrides, { eps: "small" }), 'eps must be a finite number, got "small"');
});

Deno.test("fieldPath() writes keys that are not identifiers in brackets", () => {
  assert.equal(fieldPath([]), "");
  assert.equal(fieldPath(["a", 0, "b"]), "a[0].b");
  assert.equal(
    fieldPath(["files", "train/en.jsonl.gz", "sha256"]),
    'files["train/en.jsonl.gz"].sha256',
  );
});

Deno.test("parseJsonText() names the file when it is empty, truncated or not JSON", () => {
  const message = (text: string) => {
    try {
      parseJsonText(text, "model config", "cfg.json");
    } catch (error) {
      assert.ok(error instanceof SyntaxError);
      return error.message;
    }
    assert.fail("parsed");
  };
  assert.equal(message(""), 'Cannot load model config "cfg.json": the file is empty');
  assert.equal(message(" \n"), 'Cannot load model config "cfg.json": the file is empty');
  assert.equal(
    message('{"layers": 2'),
    'Cannot load model config "cfg.json": not valid JSON: it ends in the middle of a value (truncated?)',
  );
  assert.match(
    message("{layers: 2}"),
    /^Cannot load model config "cfg\.json": not valid JSON \(.+\)$/,
  );
  assert.deepEqual(parseJsonText('{"a": [1]}', "x", "x.json"), { a: [1] });
});

Deno.test("readJsonFile() and parseJsonFile() name a missing file, a folder and a bad field", async () => {
  const dir = await Deno.makeTempDir();
  const missing = join(dir, "nope.json");
  await assert.rejects(readJsonFile("router", missing), {
    name: "NotFound",
    message: `Cannot load router "${missing}": no such file`,
  });
  await assert.rejects(readJsonFile("router", dir), {
    message: `Cannot load router "${dir}": is a directory`,
  });
  const path = join(dir, "cfg.json");
  await Deno.writeTextFile(path, '{"layers": 3}');
  assert.deepEqual(await parseJsonFile(path, fields({ layers: integer(1) }), "model config"), {
    layers: 3,
  });
  await Deno.writeTextFile(path, '{"layers": -3}');
  await assert.rejects(parseJsonFile(path, fields({ layers: integer(1) }), "model config"), {
    name: "SyntaxError",
    message: `Cannot load model config "${path}": layers must be an integer ≥ 1, got -3`,
  });
});
