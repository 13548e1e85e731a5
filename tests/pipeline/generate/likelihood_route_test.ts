import assert from "node:assert/strict";
import { join } from "node:path";
import { expertPosterior } from "../../../core/routing/mod.ts";
import {
  type Decoder,
  generate,
  GREEDY,
  openMixtureDecoder,
  openModel,
} from "../../../pipeline/generate/mod.ts";
import {
  assembleBundle,
  bundleMixture,
  loadBundle,
  routedMix,
  softMix,
} from "../../../pipeline/moe/mod.ts";
import { cpu, trainedMoE } from "../moe/_fixtures.ts";

/** A MoE-CE bundle of a briefly trained tiny MoE (candidates: each class + common). */
const bundleDir = (async () => {
  const f = await trainedMoE("moe-ce", 20);
  const dir = join(f.run, "..", "bundle");
  await assembleBundle(dir, { router: f.router, fromMoE: f.run });
  return dir;
})();

const PROMPT = "def area(r):\n    return 3.14 * r * r\n";

/** Each class's log-likelihood of `ids`, scored apart by recompute decoders (float64 sums). */
async function independentScores(dir: string, ids: number[]): Promise<Record<string, number>> {
  const bundle = await loadBundle(dir);
  const out: Record<string, number> = {};
  for (const c of bundle.experts.keys()) {
    const mixture = bundleMixture(bundle, routedMix(bundle, c));
    const d = await openMixtureDecoder(await cpu(), mixture, { mode: "recompute" });
    try {
      out[c] = (await d.prefillScored!(ids)).logLikelihood;
    } finally {
      await d.dispose();
    }
  }
  return out;
}

Deno.test("--route likelihood picks the best-scoring expert and generates from its kept cache", async () => {
  const dir = await bundleDir, backend = await cpu();
  const opened = await openModel(dir, backend, {
    prompt: PROMPT,
    route: "likelihood",
    maxTokens: 12,
  });
  let fresh: Decoder | null = null;
  try {
    const { route, prefilled } = opened;
    assert.ok(route && prefilled);
    assert.equal(route.routing, "likelihood");
    assert.equal(route.by, "likelihood");
    assert.equal(opened.decoder.length, prefilled.ids.length); // prefilled once, by the scoring
    const scores = await independentScores(dir, prefilled.ids);
    for (const [c, ll] of Object.entries(scores)) {
      assert.ok(
        Math.abs(route.logLikelihoods![c]! - ll) < 1e-3,
        `${c}: ${route.logLikelihoods![c]} vs ${ll}`,
      );
    }
    const best = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]![0];
    assert.equal(route.expert, best);
    assert.deepEqual(route.weights, { [best]: 0.5, common: 0.5 });
    const posterior = expertPosterior(route.logLikelihoods!);
    for (const c of Object.keys(scores)) {
      assert.ok(Math.abs(route.posterior![c]! - posterior[c]!) < 1e-12);
    }
    assert.ok(route.scoringMs > 0);
    // The kept cache continues as a fresh decoder of that expert does.
    const options = { maxTokens: 12, eotId: null, sampling: GREEDY };
    const kept = await generate(opened.decoder, prefilled.ids, {
      ...options,
      prefilled: prefilled.logits,
    });
    const bundle = await loadBundle(dir);
    fresh = await openMixtureDecoder(backend, bundleMixture(bundle, routedMix(bundle, best)));
    assert.deepEqual(kept.tokens, (await generate(fresh, prefilled.ids, options)).tokens);
  } finally {
    await opened.decoder.dispose();
    await fresh?.dispose();
  }
});

Deno.test("--mix posterior weights the experts by the combined posterior", async () => {
  const dir = await bundleDir, backend = await cpu();
  const opened = await openModel(dir, backend, { prompt: PROMPT, mix: "posterior", maxTokens: 4 });
  try {
    const route = opened.route!;
    assert.equal(opened.prefilled, undefined); // the mixture prefills itself
    assert.equal(route.by, "combined");
    const bundle = await loadBundle(dir);
    // The combined posterior: the router's prior against the per-token log-likelihoods.
    const n = route.scoredTokens!;
    assert.ok(n >= 1);
    const perToken = Object.fromEntries(
      Object.entries(route.logLikelihoods!).map(([k, ll]) => [k, ll / n]),
    );
    const want = softMix(bundle, expertPosterior(perToken, route.probabilities));
    for (const [k, w] of Object.entries(want.weights)) {
      assert.ok(Math.abs(route.weights[k]! - w) < 1e-12, k);
    }
    assert.deepEqual(Object.keys(route.weights), Object.keys(want.weights));
    const r = await generate(opened.decoder, [1, 2, 3], {
      maxTokens: 3,
      eotId: null,
      sampling: GREEDY,
    });
    assert.equal(r.tokens.length, 3);
  } finally {
    await opened.decoder.dispose();
  }
});

Deno.test("--route combined with --expert forces the expert without scoring", async () => {
  const opened = await openModel(await bundleDir, await cpu(), {
    prompt: PROMPT,
    route: "combined",
    expert: "de",
  });
  try {
    assert.equal(opened.route!.by, "forced");
    assert.equal(opened.route!.scoringMs, 0);
    assert.equal(opened.prefilled, undefined);
    await assert.rejects(
      async () =>
        await openModel(await bundleDir, await cpu(), { route: "likelihood", fallback: "en" }),
      /Invalid fallback with route likelihood: the fallback is for prompts the router calls unknown/,
    );
  } finally {
    await opened.decoder.dispose();
  }
});
