/**
 * Shared test helpers: fixture texts and one tokenizer trained on them (cached per process).
 *
 * @module
 */
import { join } from "node:path";
import { balance, readDocuments } from "../../../core/data/mod.ts";
import { type BpeModel, Tokenizer, trainTokenizer } from "../../../core/tokenizer/mod.ts";

/** The four fixture classes. */
export const CLASSES = ["en", "fr", "de", "py"];

const fixtureRoot = new URL("../../../fixtures/corpus/", import.meta.url).pathname;

/** Documents of one fixture class. */
export async function fixtureTexts(cls: string): Promise<string[]> {
  const texts: string[] = [];
  for await (const doc of readDocuments(`${fixtureRoot}${cls}.jsonl.gz`)) texts.push(doc.text);
  return texts;
}

let balanced: Promise<string> | null = null;

/** A small balanced dataset (60 000 characters per class, split 0.6/0.2/0.2) of the fixtures. */
export function balancedFixtures(): Promise<string> {
  balanced ??= (async () => {
    const out = join(await Deno.makeTempDir(), "balanced");
    await Deno.mkdir(out);
    await balance(out, {
      inputs: new Map(CLASSES.map((cls) => [cls, [`${fixtureRoot}${cls}.jsonl.gz`]])),
      by: "chars",
      target: 60_000,
      maxDiffPercent: 50,
      minChars: 1,
      seed: 1,
      split: [0.6, 0.2, 0.2],
      command: [],
    });
    return out;
  })();
  return balanced;
}

let trained: Promise<BpeModel> | null = null;

/** A 3 000-token model trained on all fixture classes (once per test process). */
export function fixtureModel(): Promise<BpeModel> {
  trained ??= (async () => {
    const texts: string[] = [];
    for (const cls of CLASSES) texts.push(...await fixtureTexts(cls));
    return (await trainTokenizer(texts, { vocabSize: 3000, minFrequency: 2, threads: 1 })).model;
  })();
  return trained;
}

/** A tokenizer over {@linkcode fixtureModel}. */
export async function fixtureTokenizer(): Promise<Tokenizer> {
  return new Tokenizer(await fixtureModel());
}

const identity = Int32Array.from({ length: 256 }, (_, b) => b);
const [A, B, C] = [97, 98, 99];
/**
 * A model where two merges spell the same bytes: "ab"+"c" (rank 2) and "a"+"bc" (rank 4) both
 * make "abc" (258), and "abc"+"a" (rank 3) ranks between them. In "abcabca" one-at-a-time BPE
 * gives [abca, bc, a]; merging every (a, bc) at once would wrongly give [abc, abca].
 */
export const reuseModel: BpeModel = {
  byteIds: identity,
  merges: Int32Array.of(B, C, A, B, 257, C, 258, A, A, 256),
  mergeIds: Int32Array.of(256, 257, 258, 259, 258),
  specials: [{ content: "<|endoftext|>", id: 260 }],
};
