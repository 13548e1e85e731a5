import assert from "node:assert/strict";
import { GPT_CONFIGS } from "../../models/gpt.ts";
import { PAPER_RUNS, type PaperSizesReport, paperSizesTable } from "../../bench/paper_sizes.ts";

const dir = new URL("../../docs/results/paper-sizes/", import.meta.url).pathname;
const report = JSON.parse(
  await Deno.readTextFile(`${dir}paper-sizes.json`),
) as PaperSizesReport;

Deno.test("the paper-sizes table is the one rendered from its JSON, not typed by hand", async () => {
  assert.equal(await Deno.readTextFile(`${dir}table.md`), paperSizesTable(report) + "\n");
});

Deno.test("the measured runs are the paper's sizes at context 1024, each within 24 GB", () => {
  assert.deepEqual(report.runs.map((r) => r.name), PAPER_RUNS.map((r) => r.name));
  const teacher = GPT_CONFIGS["paper-teacher"];
  assert.deepEqual(
    [report.teacher.layers, report.teacher.dModel, report.teacher.heads, report.seqLen],
    [teacher.layers, teacher.dModel, teacher.heads, 1024],
  );
  for (const run of report.runs) {
    const preset = PAPER_RUNS.find((r) => r.name === run.name)!.preset;
    assert.equal(run.model.preset, preset);
    assert.equal(run.stepSeconds.length, run.steps, run.name);
    assert.ok(run.steps > run.warmUpSteps, `${run.name} timed no step`);
    assert.ok(Number.isFinite(run.finalLoss), run.name);
    assert.ok(run.peakRssMB > 0 && run.peakRssMB < 24 * 1024, `${run.name}: ${run.peakRssMB} MB`);
  }
});
