import assert from "node:assert/strict";
import { type BpeModel, pretokenize, Tokenizer } from "../../../core/tokenizer/mod.ts";
import { CLASSES, fixtureModel, fixtureTexts, fixtureTokenizer, reuseModel } from "./_fixtures.ts";

const A = 97;

/** Deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hugging Face's rule, one merge at a time: lowest rank first, leftmost first. */
function referenceEncode(model: BpeModel, text: string): number[] {
  const rank = new Map<string, number>();
  for (let i = 0; i < model.mergeIds.length; i++) {
    rank.set(`${model.merges[2 * i]},${model.merges[2 * i + 1]}`, i);
  }
  const out: number[] = [];
  for (const piece of pretokenize(text)) {
    const ids = Array.from(new TextEncoder().encode(piece), (b) => model.byteIds[b]!);
    for (;;) {
      let best = -1, at = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = rank.get(`${ids[i]},${ids[i + 1]}`);
        if (r !== undefined && (best < 0 || r < best)) [best, at] = [r, i];
      }
      if (best < 0) break;
      ids.splice(at, 2, model.mergeIds[best]!);
    }
    out.push(...ids);
  }
  return out;
}

Deno.test("encode() equals one-merge-at-a-time BPE on the first documents of every fixture class", async () => {
  const model = await fixtureModel();
  const tok = new Tokenizer(model);
  for (const cls of CLASSES) {
    for (const text of (await fixtureTexts(cls)).slice(0, 6)) {
      assert.deepEqual(Array.from(tok.encode(text)), referenceEncode(model, text));
    }
  }
});

Deno.test("encode() equals one-merge-at-a-time BPE when two merges make the same token", () => {
  const tok = new Tokenizer(reuseModel);
  const next = random(7);
  for (let n = 0; n < 2000; n++) {
    let text = "";
    for (let i = 0, len = Math.floor(next() * 12); i < len; i++) {
      text += "abc"[Math.floor(next() * 3)];
    }
    assert.deepEqual(Array.from(tok.encode(text)), referenceEncode(reuseModel, text), text);
  }
  assert.deepEqual(Array.from(tok.encode("abcabca")), [259, 256, A]);
  assert.equal(tok.decode(tok.encode("abcabca")), "abcabca");
});

Deno.test("decode(encode(x)) is x for the empty string, one character, emoji, CJK and the whole corpus", async () => {
  const tok = await fixtureTokenizer();
  for (
    const text of [
      "",
      "a",
      " ",
      "\n",
      "é",
      "😀",
      "👩🏽‍💻 family 👨‍👩‍👧",
      "漢字かな交じり文",
      "\ufeffBOM first",
      "\u0000\u0001",
    ]
  ) {
    assert.equal(tok.decode(tok.encode(text)), text, JSON.stringify(text));
  }
  for (const cls of CLASSES) {
    const corpus = (await fixtureTexts(cls)).join("\n");
    assert.equal(tok.decode(tok.encode(corpus)), corpus);
  }
});

Deno.test("decodeBytes(encodeBytes(x)) is x for 100 000 random byte strings and Unicode strings", async () => {
  const tok = await fixtureTokenizer();
  const next = random(42);
  const bytePool = [
    0x00,
    0x0a,
    0x20,
    0x41,
    0x61,
    0x7f,
    0x80,
    0xbf,
    0xc0,
    0xc3,
    0xa9,
    0xe2,
    0x82,
    0xac,
    0xed,
    0xa0,
    0xf0,
    0x9f,
    0x98,
    0x80,
    0xf4,
    0x90,
    0xff,
  ];
  const utf8 = new TextEncoder();
  let invalid = 0;
  for (let n = 0; n < 60_000; n++) {
    const len = Math.floor(next() * 16);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      bytes[i] = next() < 0.5
        ? bytePool[Math.floor(next() * bytePool.length)]!
        : Math.floor(next() * 256);
    }
    const back = tok.decodeBytes(tok.encodeBytes(bytes));
    assert.equal(back.length, len);
    for (let i = 0; i < len; i++) {
      if (back[i] !== bytes[i]) assert.fail(`bytes ${bytes} came back as ${back}`);
    }
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      invalid++;
    }
  }
  assert.equal(invalid > 20_000, true, "most random byte strings should be invalid UTF-8");
  for (let n = 0; n < 40_000; n++) {
    let text = "";
    for (let i = 0, len = Math.floor(next() * 12); i < len; i++) {
      const r = next();
      // ASCII, Latin-1, BMP and astral code points, never lone surrogates (not Unicode scalars).
      let cp = r < 0.4
        ? Math.floor(next() * 128)
        : r < 0.6
        ? 128 + Math.floor(next() * 1920)
        : r < 0.9
        ? Math.floor(next() * 0xffff)
        : 0x10000 + Math.floor(next() * 0xfffff);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
      text += String.fromCodePoint(cp);
    }
    assert.equal(tok.decode(tok.encode(text)), text);
    assert.deepEqual(tok.encodeBytes(utf8.encode(text)), tok.encode(text));
  }
});

Deno.test("decode() names the id that is out of range", async () => {
  const tok = await fixtureTokenizer();
  assert.throws(() => tok.decode([1, 2, tok.vocabSize]), /id 3000 at position 2.*\[0, 2999\]/);
  assert.throws(() => tok.decode([-1]), /id -1 at position 0/);
  assert.throws(() => tok.decode([1.5]), /id 1.5/);
});

Deno.test("special tokens decode to their text but are never produced by encode()", async () => {
  const tok = await fixtureTokenizer();
  const eot = tok.specialId("<|endoftext|>");
  assert.equal(tok.decode([eot]), "<|endoftext|>");
  assert.equal(Array.from(tok.encode("<|endoftext|>")).includes(eot), false);
  assert.throws(() => tok.specialId("<|nope|>"), /has no special token "<\|nope\|>"/);
});

Deno.test("encode() compresses fixture prose and code to more than 2.5 bytes per token", async () => {
  const tok = await fixtureTokenizer();
  for (const cls of CLASSES) {
    const text = (await fixtureTexts(cls)).join("\n");
    const ratio = new TextEncoder().encode(text).length / tok.encode(text).length;
    assert.equal(ratio > 2.5, true, `${cls}: ${ratio.toFixed(2)} bytes per token`);
  }
});
