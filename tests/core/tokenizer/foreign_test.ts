/**
 * Foreign `tokenizer.json` files (issue #21) against Hugging Face `tokenizers` itself: the ids and
 * decoded text that `tests/oracle/make_foreign_tokenizers.py` recorded for every fixture document
 * and a list of awkward strings, for GPT-2-style byte-level and Mistral-style SentencePiece
 * tokenizers and variants of them (a base file plus a patch of dotted JSON paths). No Python here.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  endOfTextId,
  loadTokenizer,
  readShard,
  saveTokenizer,
  type TextTokenizer,
  Tokenizer,
} from "../../../core/tokenizer/mod.ts";
import { moe } from "../../_support/cli.ts";
import { balancedFixtures, CLASSES, fixtureModel, fixtureTexts } from "./_fixtures.ts";

interface GoldenString {
  text: string;
  ids: number[];
  decoded: string;
}

interface GoldenVariant {
  name: string;
  base: string;
  patch: Record<string, unknown>;
  /** Per class, per document in file order: "<tokens> <sha16 of "id,id,…"> <sha16 of decoded>". */
  documents: Record<string, string[]>;
  strings: GoldenString[];
}

const ROOT = new URL("../../../", import.meta.url).pathname;
const GOLDEN: { tokenizers: string; variants: GoldenVariant[] } = JSON.parse(
  readFileSync(join(ROOT, "tests/oracle/golden/foreign_tokenizers.json"), "utf8"),
);
const GPT2 = join(ROOT, "fixtures/tokenizers/gpt2/tokenizer.json");
const MISTRAL = join(ROOT, "fixtures/tokenizers/mistral/tokenizer.json");

function variant(name: string): GoldenVariant {
  return GOLDEN.variants.find((v) => v.name === name)!;
}

/** A copy of `json` with each dotted path of `patch` set (as the Python script does). */
function patched(json: unknown, patch: Record<string, unknown>): unknown {
  const out = structuredClone(json) as Record<string, unknown>;
  for (const [path, value] of Object.entries(patch)) {
    const keys = path.split(".");
    let node = out;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return out;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** Writes `json` to a temporary tokenizer.json and loads it. */
async function loadJson(json: unknown): Promise<{ path: string; tok: TextTokenizer }> {
  const path = join(await Deno.makeTempDir(), "tokenizer.json");
  await Deno.writeTextFile(path, JSON.stringify(json));
  return { path, tok: await loadTokenizer(path) };
}

async function loadVariant(v: GoldenVariant): Promise<TextTokenizer> {
  return (await loadJson(patched(await readJson(join(ROOT, v.base)), v.patch))).tok;
}

const sha16 = (text: string) =>
  createHash("sha256").update(text, "utf8").digest("hex").slice(0, 16);

const documents = new Map<string, string[]>();
for (const cls of CLASSES) documents.set(cls, await fixtureTexts(cls));

for (const v of GOLDEN.variants) {
  Deno.test(`${v.name}: ids and decoded text equal tokenizers' on every fixture document`, async () => {
    const tok = await loadVariant(v);
    let compared = 0;
    const wrong: string[] = [];
    for (const cls of CLASSES) {
      const texts = documents.get(cls)!;
      assert.equal(texts.length, v.documents[cls]!.length, `${cls}: document count`);
      texts.forEach((text, i) => {
        const ids = tok.encode(text);
        const ours = `${ids.length} ${sha16(Array.from(ids).join(","))} ${sha16(tok.decode(ids))}`;
        if (ours !== v.documents[cls]![i]) {
          wrong.push(`${cls}[${i}]: ${ours} ≠ ${v.documents[cls]![i]}`);
        }
        compared++;
      });
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${compared} documents differ`);
    assert.equal(compared, 194);
  });

  Deno.test(`${v.name}: ids and decoded text equal tokenizers' on awkward strings`, async () => {
    const tok = await loadVariant(v);
    for (const { text, ids, decoded } of v.strings) {
      assert.deepEqual(Array.from(tok.encode(text)), ids, JSON.stringify(text));
      assert.equal(tok.decode(ids), decoded, JSON.stringify(text));
    }
  });
}

/**
 * What decode(encode(x)) gives back, where the layout guarantees it: byte-level BPE gives x
 * (normalized, and with the space `add_prefix_space` puts in front); SentencePiece-style BPE with
 * byte fallback gives x (normalized) unless x holds a "▁" of its own (it decodes to a space) or,
 * where "▁" is prepended, begins with a space (the decoder drops the first, which it cannot tell
 * from the prepended one).
 */
const ROUND_TRIPS: Record<string, (x: string) => string | null> = {
  "gpt2": (x) => x,
  "gpt2-whole-text": (x) => x,
  "split-behaviors": (x) => x,
  "llama3-split": (x) => x.normalize("NFKC"),
  "gpt2-prefix-nfc": (x) =>
    x === "" || x.startsWith(" ") ? x.normalize("NFC") : " " + x.normalize("NFC"),
  "mistral": (x) => x.startsWith(" ") || x.includes("\u2581") ? null : x,
  "llama2": (x) => x.startsWith(" ") || x.includes("\u2581") ? null : x,
  "mistral-never": (x) => x.includes("\u2581") ? null : x,
};

Deno.test("decode(encode(x)) gives x back, up to the layout's normalisation, on every document and string", async () => {
  for (const [name, expected] of Object.entries(ROUND_TRIPS)) {
    const v = variant(name), tok = await loadVariant(v);
    // Text holding an added token's content is cut there, which the rules above do not cover.
    const plain = (x: string) =>
      !tok.specials.some((s) => x.includes(s.content)) && !/moe|<\|sep\|>/.test(x);
    const texts = [...[...documents.values()].flat(), ...v.strings.map((s) => s.text)].filter(
      plain,
    );
    let checked = 0;
    for (const text of texts) {
      const want = expected(text);
      if (want === null) continue;
      assert.equal(
        tok.decode(tok.encode(text)),
        want,
        `${name}: ${JSON.stringify(text.slice(0, 80))}`,
      );
      checked++;
    }
    assert.ok(checked > 194, `${name}: only ${checked} texts checked`);
  }
});

Deno.test("tokenBytes() of each id concatenate to the decoded bytes, byte-fallback pieces included", async () => {
  const utf8 = new TextEncoder();
  for (const name of ["gpt2", "mistral-never"]) {
    const tok = await loadVariant(variant(name));
    for (const text of [...variant(name).strings.map((s) => s.text), ...documents.get("de")!]) {
      const ids = tok.encode(text);
      const parts = Array.from(ids, (id) => tok.tokenBytes(id));
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
      assert.deepEqual(
        bytes,
        utf8.encode(tok.decode(ids)),
        `${name}: ${JSON.stringify(text.slice(0, 60))}`,
      );
    }
  }
});

Deno.test("special tokens: the end-of-document id comes from <|endoftext|>, else </s>; a tokenizer with neither is refused", async () => {
  const gpt2 = await loadTokenizer(GPT2), mistral = await loadTokenizer(MISTRAL);
  assert.equal(endOfTextId(gpt2), gpt2.specialId("<|endoftext|>"));
  assert.equal(endOfTextId(mistral), 2);
  assert.deepEqual(mistral.specials.map((s) => s.content), ["<unk>", "<s>", "</s>"]);
  assert.equal(mistral.vocabSize, 2000);
  const json = await readJson(MISTRAL);
  const { tok } = await loadJson(
    patched(json, { "added_tokens": (json.added_tokens as object[]).slice(0, 2) }),
  );
  assert.throws(
    () => endOfTextId(tok, "mistral.json"),
    /^RangeError: Cannot separate documents with tokenizer "mistral\.json": it has no end-of-document special token \(looked for <\|endoftext\|>, <\|end_of_text\|>, <\/s>, <eos>; it has <unk>, <s>\)$/,
  );
});

Deno.test("moe's own layout still loads as moe's Tokenizer, where special-token text stays text", async () => {
  const path = join(await Deno.makeTempDir(), "tok.json");
  await saveTokenizer(path, await fixtureModel());
  const tok = await loadTokenizer(path);
  assert.ok(tok instanceof Tokenizer);
  assert.ok(!tok.encode("a<|endoftext|>b").includes(tok.specialId("<|endoftext|>")));
  // The GPT-2 fixture matches it, as tokenizers does.
  const gpt2 = await loadTokenizer(GPT2);
  assert.ok(!(gpt2 instanceof Tokenizer));
  assert.ok(gpt2.encode("a<|endoftext|>b").includes(gpt2.specialId("<|endoftext|>")));
});

Deno.test("unsupported or inconsistent parts are refused with their JSON path", async () => {
  const gpt2 = await readJson(GPT2), mistral = await readJson(MISTRAL);
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, use_regex: false };
  const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [
      gpt2,
      {
        pre_tokenizer: { type: "Sequence", pretokenizers: [byteLevel, { type: "Digits" }] },
      },
      'pre_tokenizer.pretokenizers[1].type "Digits" is not supported (supported: ByteLevel, Split, Metaspace, Sequence)',
    ],
    [
      gpt2,
      { normalizer: { type: "Lowercase" } },
      'normalizer.type "Lowercase" is not supported (supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence)',
    ],
    [
      mistral,
      { "decoder.decoders.3": { type: "CTC" } },
      'decoder.decoders[3].type "CTC" is not supported (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)',
    ],
    [
      gpt2,
      { "model.type": "WordPiece" },
      'model.type "WordPiece" is not supported (supported: BPE)',
    ],
    [
      gpt2,
      { "model.continuing_subword_prefix": "##" },
      'model.continuing_subword_prefix is "##"; only null or "" is supported',
    ],
    [
      gpt2,
      { "model.dropout": 0.1 },
      "model.dropout is 0.1; only null is supported (encoding is deterministic)",
    ],
    [
      gpt2,
      { "model.unk_token": "<unk>" },
      'model.unk_token is "<unk>", which is not in model.vocab',
    ],
    [
      gpt2,
      { "model.merges": ["Ġ t", "Ġ zzq"] },
      'model.merges[1] uses "zzq", which is not in model.vocab',
    ],
    [
      gpt2,
      { "model.merges": ["Ġ t", "Ġ t"] },
      "model.merges[1] repeats model.merges[0]",
    ],
    [gpt2, {
      pre_tokenizer: {
        type: "Split",
        pattern: { Regex: "\\p{L}++" },
        behavior: "Isolated",
        invert: false,
      },
    }, 'pre_tokenizer.pattern.Regex "\\\\p{L}++" cannot run as a JavaScript regular expression'],
    [
      gpt2,
      {
        pre_tokenizer: { type: "Split", pattern: { Regex: "x" }, behavior: "Split", invert: false },
      },
      'pre_tokenizer.behavior "Split" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous',
    ],
    [
      mistral,
      { "pre_tokenizer.prepend_scheme": "sometimes" },
      'pre_tokenizer.prepend_scheme is "sometimes", not "always", "first" or "never"',
    ],
    [
      mistral,
      { "added_tokens.2": { id: 7, content: "</s>", special: true } },
      'added_tokens[2].id is 7, but Hugging Face tokenizers gives "</s>" id 2',
    ],
    [
      gpt2,
      { truncation: { max_length: 512 } },
      "truncation must be null (moe encodes whole documents)",
    ],
    [
      gpt2,
      { post_processor: { type: "RobertaProcessing" } },
      'post_processor.type "RobertaProcessing" is not supported (supported: ByteLevel, TemplateProcessing, Sequence)',
    ],
  ];
  for (const [base, patch, message] of cases) {
    const path = join(await Deno.makeTempDir(), "tok.json");
    await Deno.writeTextFile(path, JSON.stringify(patched(base, patch)));
    await assert.rejects(() => loadTokenizer(path), SyntaxError);
    const error = await loadTokenizer(path).then(() => null, (e: Error) => e.message);
    assert.ok(
      error?.startsWith(`Cannot load tokenizer "${path}": ${message}`),
      `${error}\n≠ ${message}`,
    );
  }
});

Deno.test("moe tokenizer encode --text prints tokenizers' ids for both fixture tokenizers", async () => {
  for (const [name, file] of [["gpt2", GPT2], ["mistral", MISTRAL]] as const) {
    for (const index of [9, 14]) { // emoji/CJK; special tokens in text (and bytes for mistral)
      const { text, ids } = variant(name).strings[index]!;
      const { code, stdout, stderr } = await moe([
        "tokenizer",
        "encode",
        "--tokenizer",
        file,
        "--text",
        text,
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(stdout, ids.join(" ") + "\n", `${name}: ${text}`);
    }
  }
});

Deno.test("moe tokenizer encode --data makes shards with the SentencePiece fixture, </s> between documents", async () => {
  const data = await balancedFixtures();
  const out = join(await Deno.makeTempDir(), "tokens");
  const encoded = await moe([
    "tokenizer",
    "encode",
    "--data",
    data,
    "--tokenizer",
    MISTRAL,
    "--out",
    out,
    "--threads",
    "2",
    "--json",
  ]);
  assert.equal(encoded.code, 0, encoded.stderr);
  const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
  const fingerprint = createHash("sha256").update(readFileSync(MISTRAL)).digest("hex");
  assert.deepEqual(
    {
      eotId: manifest.tokenizer.eotId,
      vocabSize: manifest.tokenizer.vocabSize,
      fingerprint: manifest.tokenizer.fingerprint,
    },
    { eotId: 2, vocabSize: 2000, fingerprint },
  );
  const tok = await loadTokenizer(MISTRAL);
  const { header, tokens } = await readShard(join(out, "val", "de.bin"));
  assert.equal(header.fingerprint, fingerprint);
  const { readDocuments } = await import("../../../core/data/mod.ts");
  const expected: number[] = [];
  for await (const doc of readDocuments(join(data, "val", "de.jsonl.gz"))) {
    expected.push(...tok.encode(doc.text), 2);
  }
  assert.deepEqual(Array.from(tokens), expected);
  const decoded = await moe([
    "tokenizer",
    "decode",
    "--tokenizer",
    MISTRAL,
    ...expected.slice(0, 40).map(String),
  ]);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.equal(decoded.stdout, tok.decode(expected.slice(0, 40)) + "\n");
});

Deno.test("moe tokenizer encode --data exits 1 naming the file when the tokenizer has no end-of-document token", async () => {
  const json = await readJson(MISTRAL);
  const { path } = await loadJson(patched(json, { "added_tokens.2.special": false }));
  const out = join(await Deno.makeTempDir(), "tokens");
  const { code, stderr } = await moe([
    "tokenizer",
    "encode",
    "--data",
    await balancedFixtures(),
    "--tokenizer",
    path,
    "--out",
    out,
  ]);
  assert.equal(code, 1);
  assert.match(
    stderr,
    new RegExp(
      `Cannot separate documents with tokenizer "${path}": it has no end-of-document special token`,
    ),
  );
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
});
