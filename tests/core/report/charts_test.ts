import assert from "node:assert/strict";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { barChart, lineChart, renderChart } from "../../../core/report/mod.ts";

/** Runs a spec through Vega and returns the rows of the dataset a window transform writes. */
async function windowed(spec: TopLevelSpec, as: string): Promise<Record<string, unknown>[]> {
  const vg = compile(spec).spec;
  const data = vg.data!.find((d) =>
    (d.transform ?? []).some((t) =>
      t.type === "window" && JSON.stringify((t as { as?: unknown }).as).includes(as)
    )
  );
  assert.ok(data, `a dataset computes "${as}"`);
  const view = new View(parse(vg), { renderer: "none" });
  await view.runAsync();
  const rows = view.data(data.name) as Record<string, unknown>[];
  view.finalize();
  return rows;
}

Deno.test("a smoothed line restarts at every phase boundary: no window averages across one", async () => {
  // A step from 1 to 100 at the boundary x = 50.5: no smoothed point after it may see a 1.
  const points = Array.from({ length: 100 }, (_, i) => ({
    x: i + 1,
    y: i < 50 ? 1 : 100,
    series: "sequential",
  }));
  const spec = lineChart({
    title: "t",
    xTitle: "step",
    yTitle: "loss",
    points,
    rules: [{ x: 50.5, label: "→ fr" }],
    faint: ["sequential"],
  });
  const rows = await windowed(spec, "smooth");
  const at = (x: number) => rows.find((r) => r.x === x)!.smooth as number;
  assert.equal(at(51), 100, "the first point after the boundary starts a new window");
  for (let x = 51; x <= 100; x++) assert.equal(at(x), 100);
  for (let x = 1; x <= 50; x++) assert.equal(at(x), 1, "nor does the window before it see past it");
});

Deno.test("line charts fit the x axis to the steps drawn and keep lines off the axes", () => {
  const spec = lineChart({
    title: "α",
    xTitle: "step",
    yTitle: "α",
    points: [3, 97].flatMap((
      x,
    ) => [{ x, y: 0.25, series: "α = 0.25" }, { x, y: 0.75, series: "b" }]),
  });
  const json = JSON.stringify(spec);
  assert.match(json, /"scale":\{"nice":false,"domain":\[3,97\]\}/);
  assert.match(json, /"scale":\{"zero":false,"padding":8\}/);
});

Deno.test("legends show long labels in full, and a bar of height 0 shows its value", async () => {
  const label = "MoE-CE, routed + common (both halves of every hidden state)";
  const bars = [
    { group: "en", series: "sequential", y: 1.8 },
    { group: "en", series: label, y: 0 },
    { group: "fr", series: "sequential", y: 1.2 },
    { group: "fr", series: label, y: 0 },
  ];
  const { svg } = await renderChart(
    barChart({ title: "Forgetting", xTitle: "class", yTitle: "rise", bars }),
    1,
  );
  assert.ok(svg.includes(`>${label}<`), "the whole label is in the legend");
  assert.ok(!svg.includes("…"), "no label is cut");
  assert.equal(svg.match(/>0\.000</g)?.length, 2, "each zero bar is labelled");
  assert.ok(!svg.includes(">1.800<"), "tall bars speak for themselves");
});
