import assert from "node:assert/strict";
import { readDocuments } from "../../../core/data/mod.ts";
import { decideRoute, ROUTE_RULES } from "../../../core/routing/mod.ts";
import {
  compareRoutingRules,
  evaluateBundle,
  evaluateDocuments,
  lowest,
  type RoutingRulesReport,
  rowRegret,
  ruleChoices,
  type RuleInput,
  spanMean,
  textWindows,
  tokenLosses,
  tokenWindows,
} from "../../../pipeline/moe/mod.ts";
import { buildTokenLoss } from "../../../models/moe.ts";
import { CLASSES, cpu, trainedBundle } from "./_fixtures.ts";

const { f, bundle } = await trainedBundle("moe-ce", 40);
const backend = await cpu();
const MANPAGES = "fixtures/ood/en-manpages.jsonl.gz";

/** Every candidate (expert+common: MoE-CE) on `windows`: `[rows, T]` losses. */
async function candidateLosses(
  windows: ReturnType<typeof tokenWindows>,
  T: number,
  batch: number,
): Promise<Map<string, Map<string, Float32Array>>> {
  const geometry = { batch, seqLen: T };
  const out = new Map<string, Map<string, Float32Array>>();
  for (const [cls, e] of bundle.experts) {
    const graph = buildTokenLoss(e.config, [e.values, bundle.common!.values], geometry);
    out.set(cls, await tokenLosses(backend, graph, new Map([["text", windows]]), geometry));
  }
  return out;
}

/** The ids of the fixture file as `evaluateDocuments` reads them: end-of-text after each. */
async function documentIds(path: string): Promise<number[]> {
  const ids: number[] = [];
  for await (const d of readDocuments(path)) {
    ids.push(...bundle.tokenizer.encode(d.text), bundle.manifest.tokenizer.eotId);
  }
  return ids;
}

function checkReport(report: RoutingRulesReport): void {
  const best = report.rules.find((r) => r.rule === "oracle-best")!;
  assert.equal(best.regret, 0);
  assert.equal(best.bestShare, 1);
  for (const r of report.rules) {
    assert.ok(r.regret >= 0 && r.bestShare >= 0 && r.bestShare <= 1, JSON.stringify(r));
    for (const s of Object.values(r.perSet)) assert.ok(s.regret >= 0, `${r.rule}: ${s.regret}`);
    // Oracle-best is a floor of every rule's continuation loss.
    assert.ok(r.loss >= best.loss, `${r.rule}: ${r.loss} < ${best.loss}`);
  }
}

Deno.test("rowRegret() is 0 with a best share of 1 under oracle-best routing", () => {
  const T = 4, rows = 3;
  const choices = new Map(
    ["en", "fr", "py"].map((c, k) => [
      c,
      new Map([[
        "x",
        Float32Array.from({ length: rows * T }, (_, t) => ((t * 7 + k * 5) % 11) / 3),
      ]]),
    ]),
  );
  const oracle = (_: string, r: number) =>
    lowest(new Map([...choices].map(([c, l]) => [c, spanMean(l.get("x")!, r * T, (r + 1) * T)])));
  const r = rowRegret(new Map([["x", rows]]), T, choices, oracle);
  assert.deepEqual(r.mean, { regret: 0, bestShare: 1 });
  const always = rowRegret(new Map([["x", rows]]), T, choices, () => "en");
  assert.ok(always.mean.regret >= 0 && always.mean.bestShare <= 1);
});

Deno.test("evaluateBundle() gives the hard-routed rows a regret ≥ 0 and compares the rules", async () => {
  const report = await evaluateBundle(bundle, {
    data: f.shards,
    split: "val",
    rows: 8,
    batch: 8,
    backend,
    routePrefix: 16,
  });
  for (const name of ["routed", "routed+common"]) {
    const row = report.rows.find((r) => r.name === name)!;
    for (const c of CLASSES) {
      const s = row.regret!.perClass[c]!;
      assert.ok(s.regret >= 0 && s.bestShare >= 0 && s.bestShare <= 1, `${name} ${c}`);
    }
  }
  assert.ok(report.rows.filter((r) => r.regret).length === 2);
  const rules = report.routingRules!;
  assert.equal(rules.prefix, 16);
  assert.equal(rules.continuation, report.seqLen - 15);
  assert.equal(rules.candidate, "expert+common");
  assert.deepEqual(rules.rules.map((r) => r.rule), [...ROUTE_RULES, "oracle-label", "oracle-best"]);
  checkReport(rules);
  const label = rules.rules.find((r) => r.rule === "oracle-label")!;
  assert.equal(label.accuracy, 1);
  assert.equal(label.macroF1, 1);
});

Deno.test("the rules decide as decideRoute() on prompt log-likelihoods scored separately", async () => {
  const T = 32, P = 12, batch = 8;
  const report = await evaluateDocuments(bundle, {
    path: MANPAGES,
    label: "en",
    window: T,
    routePrefix: P,
    batch,
    backend,
  });
  checkReport(report.routingRules);
  const ids = await documentIds(MANPAGES);
  const windows = tokenWindows(ids, T, batch);
  assert.equal(report.windows, windows.rows);
  assert.equal(report.tokens, ids.length);
  // The rules' choices from the full windows' losses give the report's counts.
  const candidates = await candidateLosses(windows, T, batch);
  const router = [];
  for (let w = 0; w < windows.rows; w++) {
    router.push(
      bundle.router.route(bundle.tokenizer.decode(ids.slice(w * T, w * T + P)), 0).probabilities,
    );
  }
  const input: RuleInput = {
    seqLen: T,
    prefix: P,
    candidates,
    router: new Map([["text", router]]),
    routerMs: 0,
    labels: new Map([["text", "en"]]),
  };
  const { choices } = ruleChoices(input);
  for (const rule of report.routingRules.rules) {
    const counts: Record<string, number> = {};
    for (const c of choices.get(rule.rule)!.get("text")!) counts[c] = (counts[c] ?? 0) + 1;
    assert.deepEqual(rule.choices.en, counts, rule.rule);
  }
  // Independently for a few windows: the prompt alone through each candidate's graph.
  for (const w of [0, 1, 7, 20]) {
    const prompt = ids.slice(w * T, w * T + P);
    const alone = await candidateLosses(textWindows(prompt, P, 1), P, 1);
    const ll = Object.fromEntries(
      [...alone].map(([c, l]) => [c, -l.get("text")!.reduce((a, b) => a + b, 0)]),
    );
    for (const rule of ROUTE_RULES) {
      const want = decideRoute(rule, router[w]!, ll, P - 1);
      const sorted = Object.values(want.probabilities).sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! < 1e-4) continue; // a near tie: float rounding may flip it
      assert.equal(choices.get(rule)!.get("text")![w], want.best, `${rule} on window ${w}`);
    }
  }
});

Deno.test("compareRoutingRules() leaves out label metrics without a label and checks the prompt", () => {
  const l = new Map([["x", new Float32Array([1, 2, 3, 4, 5, 6, 7, 8])]]);
  const input: RuleInput = {
    seqLen: 4,
    prefix: 2,
    candidates: new Map([["en", l], ["py", new Map([["x", new Float32Array(8).fill(4)]])]]),
    router: new Map([["x", [{ en: 0.9, py: 0.1 }, { en: 0.9, py: 0.1 }]]]),
    routerMs: 0.5,
    labels: new Map([["x", null]]),
  };
  const report = compareRoutingRules(input, "expert");
  assert.deepEqual(report.rules.map((r) => r.rule), [...ROUTE_RULES, "oracle-best"]);
  const router = report.rules[0]!;
  assert.equal(router.accuracy, null);
  assert.equal(router.msPerPrompt, 0.5);
  // Sequence 0: en's continuation (positions 1–3) 3 vs py's 4; sequence 1: en 7 vs 4.
  assert.deepEqual(router.choices.x, { en: 2 });
  assert.equal(router.regret, (0 + 3) / 2);
  assert.equal(router.bestShare, 0.5);
  assert.throws(() => compareRoutingRules({ ...input, prefix: 5 }, "expert"), /prompt of 5 tokens/);
});
