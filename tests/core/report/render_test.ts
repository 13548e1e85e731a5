import assert from "node:assert/strict";
import { barChart, lineChart, renderChart } from "../../../core/report/mod.ts";
import { decodePng, PNG_SIGNATURE } from "./_png.ts";

/** The SVG's own size, which the PNG must match at the given zoom. */
function svgSize(svg: string): { width: number; height: number } {
  const m = svg.match(/^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/);
  assert.ok(m, "the SVG has a width and a height");
  return { width: Number(m[1]), height: Number(m[2]) };
}

Deno.test("renderChart() turns a line chart into an SVG and a PNG of twice its size", async () => {
  const spec = lineChart({
    title: "Loss",
    xTitle: "step",
    yTitle: "loss",
    points: [1, 2, 3, 4].flatMap((x) => [
      { x, y: 5 - x / 2, series: "en" },
      { x, y: 6 - x / 3, series: "fr" },
    ]),
    rules: [{ x: 2, label: "→ fr" }],
  });
  const chart = await renderChart(spec, 2);
  const size = svgSize(chart.svg);
  assert.deepEqual([...chart.png.subarray(0, 8)], PNG_SIGNATURE);
  const png = decodePng(chart.png);
  assert.deepEqual([png.width, png.height], [
    Math.ceil(size.width * 2),
    Math.ceil(size.height * 2),
  ]);
  assert.deepEqual([chart.width, chart.height], [png.width, png.height]);
  // The text is there as text (titles, legend), set in the bundled font.
  assert.match(chart.svg, /font-family="Source Sans 3"/);
  assert.match(chart.svg, />Loss</);
  assert.match(chart.svg, />→ fr</);
});

Deno.test("renderChart() draws glyphs: a long title makes the PNG larger", async () => {
  const bars = [{ group: "en", series: "a", y: 1 }, { group: "fr", series: "a", y: -0.5 }];
  const bytes = async (title: string) => {
    const { png } = await renderChart(barChart({ title, xTitle: "", yTitle: "", bars }), 1);
    return png.length;
  };
  // A PNG with a long title compresses to more bytes only if glyphs were drawn.
  assert.ok(await bytes("Forgetting of every earlier class, per regime") > await bytes("") + 500);
});

Deno.test("renderChart() rejects a spec that does not compile", async () => {
  await assert.rejects(
    () => renderChart({ mark: "no-such-mark", data: { values: [] } } as never),
    /^Error: Cannot compile chart: /,
  );
});
