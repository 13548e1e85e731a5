import assert from "node:assert/strict";
import { parseMetrics, runCharts, summarizeRun } from "../../../core/report/mod.ts";

const train = (step: number, loss: number, extra = "") =>
  `{"event":"train","step":${step},"loss":${loss},"lr":0.001,"grad_norm":1,"tokens":${
    step * 64
  },"tokens_per_s":${100 + step}${extra}}`;
const evalLine = (step: number, phase: string, en: number, fr: number) =>
  `{"event":"eval","step":${step},"phase":"${phase}","val":{"en":{"loss":${en},"ppl":${
    Math.exp(en)
  }},"fr":{"loss":${fr},"ppl":${Math.exp(fr)}}}}`;

Deno.test("parseMetrics() skips a last line cut short by a kill but rejects a bad line before it", () => {
  const ok = parseMetrics(`${train(1, 5)}\n${train(2, 4)}\n{"event":"tra`);
  assert.equal(ok.train.length, 2);
  assert.throws(
    () => parseMetrics(`${train(1, 5)}\n{"event":"tra\n${train(2, 4)}\n`, "run/metrics.jsonl"),
    /Cannot read metrics "run\/metrics.jsonl" line 2: not JSON/,
  );
  assert.throws(() => parseMetrics('{"event":"train","step":1}'), /train record without "loss"/);
});

Deno.test("summarizeRun() keeps the last evaluation of each phase and averages the tail of the loss", () => {
  const lines = [
    ...Array.from({ length: 10 }, (_, i) => train(i + 1, 10 - i)),
    evalLine(3, "en", 4, 6),
    evalLine(5, "en", 3, 6.5),
    evalLine(8, "fr", 5, 3),
    evalLine(10, "fr", 5.5, 2),
  ];
  const s = summarizeRun(parseMetrics(lines.join("\n")));
  assert.equal(s.steps, 10);
  assert.equal(s.tokens, 640);
  assert.equal(s.tokensPerSecond, 110);
  assert.equal(s.finalTrainLoss, 1);
  assert.equal(s.tailTrainLoss, 1); // the last 10 % of 10 steps is the last step
  assert.deepEqual(s.phases.map((p) => [p.phase, p.step, p.val.en!.loss]), [["en", 5, 3], [
    "fr",
    10,
    5.5,
  ]]);
  assert.equal(s.val!.fr!.loss, 2);
  assert.equal(s.finalAlpha, null);
});

Deno.test("runCharts() adds an α chart only for runs that logged α", () => {
  const plain = parseMetrics(train(1, 5));
  const distilled = parseMetrics(train(1, 5, ',"alpha":0.5,"ce":4,"kd":6'));
  assert.deepEqual(runCharts(plain).map((c) => c.name), ["loss", "lr"]);
  assert.deepEqual(runCharts(distilled).map((c) => c.name), ["loss", "lr", "alpha"]);
  assert.equal(summarizeRun(distilled).finalAlpha, 0.5);
});
