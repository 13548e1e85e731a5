import assert from "node:assert/strict";
import { join } from "node:path";
import { readDocuments } from "../../../core/data/mod.ts";
import {
  scoreText,
  scoreTextWithBundle,
  textWindows,
  tokenLosses,
} from "../../../pipeline/moe/mod.ts";
import { UNKNOWN } from "../../../core/routing/mod.ts";
import { buildTokenLoss } from "../../../models/moe.ts";
import { moe } from "../../_support/cli.ts";
import { cpu, trainedBundle } from "./_fixtures.ts";

const { f, dir, bundle } = await trainedBundle("moe-ce", 20);

/** The first `chars` characters of a fixture class's corpus. */
async function corpus(cls: string, chars: number): Promise<string> {
  let text = "";
  for await (const doc of readDocuments(`fixtures/corpus/${cls}.jsonl.gz`)) {
    text += doc.text;
    if (text.length >= chars) break;
  }
  return text.slice(0, chars);
}

Deno.test("textWindows() cuts consecutive windows, predicts within each, and batches a subset", () => {
  const ids = [10, 11, 12, 13, 14, 15, 16];
  const all = textWindows(ids, 3, 2); // [10 11 12] [13 14 15] [16]
  assert.equal(all.rows, 3);
  assert.equal(all.tokens, 4); // 11, 12, 14, 15: never a window's first token
  assert.deepEqual(all.batches.map((b) => b.count), [6, 3]);
  assert.deepEqual(Array.from(all.batches[0]!.tokens, Number), [10, 11, 12, 13, 14, 15]);
  assert.deepEqual(Array.from(all.batches[0]!.targets, Number), [11, 12, -1, 14, 15, -1]);
  assert.deepEqual(Array.from(all.batches[1]!.targets, Number), [-1, -1, -1, -1, -1, -1]);
  const some = textWindows(ids, 3, 2, [1]);
  assert.equal(some.rows, 1);
  assert.equal(some.tokens, 2);
  assert.deepEqual(Array.from(some.batches[0]!.tokens, Number).slice(0, 3), [13, 14, 15]);
});

Deno.test("scoreTextWithBundle() scores each window with its routed expert averaged with the common one", async () => {
  const text = (await corpus("en", 1200)) + (await corpus("fr", 1200));
  const backend = await cpu();
  const s = await scoreTextWithBundle(bundle, text, { batch: 4, backend });
  const ids = bundle.tokenizer.encode(text);
  const T = f.moe.model.contextLength;
  assert.equal(s.tokens, ids.length);
  assert.equal(s.windows, Math.ceil(ids.length / T));
  assert.equal(s.predicted, ids.length - s.windows);
  assert.equal(Object.values(s.routes!).reduce((a, b) => a + b, 0), s.windows);
  assert.ok(s.routes!["en+common"]! > 0 && s.routes!["fr+common"]! > 0, JSON.stringify(s.routes));

  // Independently: MoE-CE's ½ + ½ graph (buildTokenLoss of two stacks) window by window.
  const common = bundle.common!;
  let total = 0;
  for (let w = 0; w < s.windows; w++) {
    const window = Array.from(ids.subarray(w * T, (w + 1) * T));
    const r = bundle.router.route(bundle.tokenizer.decode(window), 0);
    const stacks = r.label === UNKNOWN
      ? [common.values]
      : [bundle.experts.get(r.label)!.values, common.values];
    const geometry = { batch: 1, seqLen: T };
    const losses = await tokenLosses(
      backend,
      buildTokenLoss(f.moe.model, stacks, geometry),
      new Map([["w", textWindows(window, T, 1)]]),
      geometry,
    );
    total += losses.get("w")!.reduce((a, b) => a + b, 0);
  }
  const expected = total / s.predicted;
  assert.ok(Math.abs(s.loss - expected) <= 1e-5 * expected, `${s.loss} vs ${expected}`);
  assert.equal(s.perplexity, Math.exp(s.loss));

  // moe eval BUNDLE --text runs this.
  const file = join(await Deno.makeTempDir(), "text.txt");
  await Deno.writeTextFile(file, text);
  const cli = await moe([
    "eval",
    dir,
    "--text",
    file,
    "--batch",
    "4",
    "--json",
    "--backend",
    "cpu",
    "--threads",
    "1",
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const json = JSON.parse(cli.stdout);
  assert.deepEqual({ loss: json.loss, routes: json.routes }, { loss: s.loss, routes: s.routes });

  // One expert alone, on the same windows: another model, another loss.
  const fr = bundle.experts.get("fr")!;
  const alone = await scoreText(fr, bundle.tokenizer, text, { batch: 4, backend });
  assert.equal(alone.predicted, s.predicted);
  assert.equal(alone.routes, undefined);
  assert.notEqual(alone.loss, s.loss);
});

Deno.test("scoreText() refuses a text with nothing to predict", async () => {
  const fr = bundle.experts.get("fr")!;
  await assert.rejects(
    async () => scoreText(fr, bundle.tokenizer, "a", { batch: 1, backend: await cpu() }),
    { message: "Cannot score the text: it has fewer than two tokens, so no token is predicted" },
  );
});
