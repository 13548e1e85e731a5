import assert from "node:assert/strict";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import {
  loadTokenizer,
  parseTokenizerJson,
  saveTokenizer,
  toTokenizerJson,
} from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureModel, fixtureTexts, reuseModel } from "./_fixtures.ts";

// tokenizer_config.json: Hugging Face's decode-time "clean up" (" 'm" → "'m") would alter the text.
const HF_CONFIG = { clean_up_tokenization_spaces: false };

Deno.test("an independent tokenizer.json implementation gives our ids on every fixture document", async () => {
  const model = await fixtureModel();
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await saveTokenizer(path, model);
  const ours = await loadTokenizer(path);
  const hf = new HfTokenizer(JSON.parse(await Deno.readTextFile(path)), HF_CONFIG);
  let documents = 0;
  for (const cls of CLASSES) {
    for (const text of await fixtureTexts(cls)) {
      const theirs = hf.encode(text, { add_special_tokens: false }).ids;
      assert.deepEqual(Array.from(ours.encode(text)), theirs, `${cls} document ${documents}`);
      assert.deepEqual(hf.decode(theirs, {}), text);
      documents++;
    }
  }
  assert.deepEqual(documents > 100, true);
});

Deno.test("the independent implementation agrees on whitespace, digits, contractions and scripts", async () => {
  const model = await fixtureModel();
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await saveTokenizer(path, model);
  const ours = await loadTokenizer(path);
  const hf = new HfTokenizer(JSON.parse(await Deno.readTextFile(path)), HF_CONFIG);
  const samples = [
    "",
    " ",
    "\n\n\n",
    "    def f(x):\r\n\t\treturn x  \n",
    "I'm sure they'll say it's 1234567 o'clock, DON'T",
    "\u00a0non-breaking\u2003em space\u3000ideographic\ufeffbom\u0085nel",
    "日本語のテキスト 😀👍🏽 مرحبا Ωμέγα",
    "x = [1, 2, 3]  # comment\n",
  ];
  for (const text of samples) {
    assert.deepEqual(
      Array.from(ours.encode(text)),
      hf.encode(text, { add_special_tokens: false }).ids,
      JSON.stringify(text),
    );
  }
});

Deno.test("the independent implementation agrees when two merges spell the same token", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await saveTokenizer(path, reuseModel);
  const ours = await loadTokenizer(path);
  const hf = new HfTokenizer(JSON.parse(await Deno.readTextFile(path)), HF_CONFIG);
  for (const text of ["abcabca", "abc", "bcabc abca", "aabcbcabca"]) {
    assert.deepEqual(
      Array.from(ours.encode(text)),
      hf.encode(text, { add_special_tokens: false }).ids,
      text,
    );
  }
  assert.deepEqual(Array.from(ours.encode("abcabca")), [259, 256, 97]);
});

Deno.test("tokenizer.json round-trips through parseTokenizerJson", async () => {
  const model = await fixtureModel();
  const back = parseTokenizerJson(JSON.parse(JSON.stringify(toTokenizerJson(model))), "x.json");
  assert.deepEqual(Array.from(back.merges), Array.from(model.merges));
  assert.deepEqual(Array.from(back.mergeIds), Array.from(model.mergeIds));
  assert.deepEqual(back.specials, model.specials);
});

Deno.test("loading a corrupt or foreign tokenizer.json names the failing field", async () => {
  const model = await fixtureModel();
  const good = toTokenizerJson(model);
  const broken = (change: (json: ReturnType<typeof toTokenizerJson>) => void) => {
    const json = structuredClone(good);
    change(json);
    return json;
  };
  const cases: [unknown, RegExp][] = [
    [
      broken((j) => (j.model as Record<string, unknown>).type = "WordPiece"),
      /model\.type is "WordPiece"/,
    ],
    [broken((j) => delete (j.model as Record<string, unknown>).vocab), /model\.vocab is missing/],
    [broken((j) => j.model.merges[3] = "Ġ"), /model\.merges\[3\]/],
    [broken((j) => j.model.merges[5] = "Ġzzq zzq"), /model\.merges\[5\] uses "Ġzzq"/],
    [broken((j) => j.model.vocab["Ġ"] = -1), /model\.vocab\["Ġ"\] is -1/],
    [
      broken((j) => (j as Record<string, unknown>).pre_tokenizer = { type: "ByteLevel" }),
      /pre_tokenizer must be a Sequence/,
    ],
    [
      broken((j) => j.pre_tokenizer.pretokenizers[0]!.pattern = { Regex: "\\s+" }),
      /pretokenizers\[0\]\.pattern\.Regex/,
    ],
    [
      broken((j) => (j as Record<string, unknown>).added_tokens = [{ id: "x" }]),
      /added_tokens\[0\]/,
    ],
    [
      broken((j) => j.added_tokens[1]!.id = 300),
      /added_tokens\[1\] has id 300, already model\.vocab/,
    ],
  ];
  for (const [json, pattern] of cases) {
    assert.throws(() => parseTokenizerJson(json, "bad.json"), SyntaxError);
    assert.throws(() => parseTokenizerJson(json, "bad.json"), pattern);
  }
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, '{"model": ');
  await assert.rejects(() => loadTokenizer(path), /not JSON/);
});
