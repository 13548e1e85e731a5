import assert from "node:assert/strict";
import { forgetting, phaseEnds, valsAtPhaseEnds } from "../../studies/mod.ts";
import { parseMetrics } from "../../core/report/mod.ts";

const val = (losses: Record<string, number>) =>
  Object.fromEntries(Object.entries(losses).map(([c, loss]) => [c, { loss, ppl: Math.exp(loss) }]));

Deno.test("forgetting() is each earlier class's final loss minus its loss after its own phase", () => {
  const order = ["en", "fr", "de"];
  const rows = forgetting({
    regime: "sequential",
    seed: 3,
    vals: [
      val({ en: 2, fr: 6, de: 6 }),
      val({ en: 4.5, fr: 2.5, de: 6 }),
      val({ en: 3, fr: 3.25, de: 2 }),
    ],
  }, order);
  assert.deepEqual(
    rows.map((r) => [r.class, r.phase, r.learned, r.final, r.forgetting, r.maxRise]),
    [
      ["en", 0, 2, 3, 1, 2.5],
      ["fr", 1, 2.5, 3.25, 0.75, 0.75],
    ],
  );
  // A regime that stopped before the last phase has no final loss yet: no rows, not wrong ones.
  assert.deepEqual(
    forgetting({ regime: "x", seed: 1, vals: [val({ en: 2, fr: 6, de: 6 }), null, null] }, order),
    [],
  );
});

Deno.test("valsAtPhaseEnds() picks the evaluation logged at each phase-end step", () => {
  const ends = phaseEnds(12, 3);
  assert.deepEqual(ends, [4, 8, 12]);
  const m = parseMetrics(
    [4, 6, 8].map((step) => JSON.stringify({ event: "eval", step, val: val({ en: step }) })).join(
      "\n",
    ),
  );
  assert.deepEqual(valsAtPhaseEnds(m, ends).map((v) => v?.en?.loss ?? null), [4, 8, null]);
});
