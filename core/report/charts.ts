/**
 * The chart shapes reports use, as Vega-Lite specs: lines of a value over steps, one per series,
 * optionally one panel per facet, mean ± standard deviation bands over seeds, and vertical rules
 * (phase boundaries); and grouped bars.
 *
 * What a reader must be able to trust: legends show every label in full; the x axis spans exactly
 * the steps drawn and the y axis keeps a margin, so no line hides on an axis; smoothed lines
 * average windows that stop at every rule (a phase boundary), so no smoothing crosses one; bars
 * too low to see carry their value.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";

/** One point of a line: `y` of `series` at step `x` (in panel `facet`, from seed `seed`). */
export interface SeriesPoint {
  x: number;
  y: number;
  series: string;
  facet?: string;
  seed?: number;
}

/** A vertical rule at `x` (in panel `facet`), labelled `label`. */
export interface Rule {
  x: number;
  label: string;
  facet?: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  points: SeriesPoint[];
  rules?: Rule[];
  /**
   * Series whose lines are drawn thin and faint (e.g. the noisy per-step train loss), with a
   * moving average on top that restarts at every rule.
   */
  faint?: string[];
  /** Draw a point at every value (for sparse series such as evaluations). */
  markers?: boolean;
  /** Logarithmic y axis. */
  logY?: boolean;
  width?: number;
  height?: number;
}

/**
 * A line chart: one colored line per series (the mean over seeds where several seeds give the
 * same point, with a ±1 std band), dashed vertical rules, one panel per facet when points have
 * facets.
 *
 * @param o Title, axis titles, points, rules and layout.
 * @returns The Vega-Lite spec.
 *
 * @example
 * ```ts
 * import { lineChart } from "./charts.ts";
 * const spec = lineChart({
 *   title: "loss", xTitle: "step", yTitle: "loss",
 *   points: [{ x: 1, y: 3, series: "train" }, { x: 2, y: 2, series: "train" }],
 *   rules: [{ x: 1.5, label: "phase 2" }],
 * });
 * console.assert(JSON.stringify(spec).includes('"rule"'));
 * ```
 */
export function lineChart(o: LineChartOptions): TopLevelSpec {
  const faceted = o.points.some((p) => p.facet !== undefined);
  const seeds = new Set(o.points.map((p) => p.seed ?? 0)).size;
  const { x, y } = lineAxes(o);
  // Series and panels keep the order in which the points name them (e.g. the class order).
  const seriesOrder = [...new Set(o.points.map((p) => p.series))];
  const facetOrder = [...new Set(o.points.map((p) => p.facet ?? ""))];
  const color = { field: "series", type: "nominal" as const, title: null, sort: seriesOrder };
  const solid = { filter: "datum.kind === 'line' && !datum.faint" };
  const layers = [
    ...((o.faint ?? []).length > 0 ? faintLayers(o, { x, y, color }) : []),
    ...(seeds > 1
      ? [{
        transform: [solid],
        mark: { type: "errorband" as const, extent: "stdev" as const, opacity: 0.2 },
        encoding: { x, y, color },
      }]
      : []),
    {
      transform: [solid],
      mark: { type: "line" as const, point: o.markers ?? false, strokeWidth: 2, clip: true },
      encoding: { x, y: { ...y, aggregate: "mean" as const }, color },
    },
    ...(o.rules?.length ? ruleLayers(x) : []),
  ];
  const size = { width: o.width ?? (faceted ? 360 : 560), height: o.height ?? 280 };
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.title,
    data: { values: lineRows(o) },
    // The legend shows each series at full strength even when its first layer is faint, and
    // every label in full (Vega-Lite cuts them at 160 px by default).
    config: { legend: { symbolOpacity: 1, symbolType: "stroke", labelLimit: 0 } },
  };
  if (!faceted) return { ...base, ...size, layer: layers } as TopLevelSpec;
  return {
    ...base,
    facet: { column: { field: "facet", type: "nominal", title: null, sort: facetOrder } },
    spec: { ...size, layer: layers },
  } as TopLevelSpec;
}

/**
 * The data of a line chart: every point, marked faint or not and with its segment (how many
 * rules of its panel lie before it: smoothing restarts at each), then every rule.
 */
function lineRows(o: LineChartOptions) {
  const faint = o.faint ?? [];
  const rules = o.rules ?? [];
  const segment = (p: SeriesPoint) =>
    rules.filter((r) => (r.facet === undefined || r.facet === p.facet) && r.x < p.x).length;
  return [
    ...o.points.map((p) => ({
      kind: "line",
      ...p,
      faint: faint.includes(p.series),
      segment: segment(p),
    })),
    ...rules.map((r) => ({ kind: "rule", ...r })),
  ];
}

/** The x (step) and y (value) encodings of a line chart. */
function lineAxes(o: LineChartOptions) {
  const xs = o.points.map((p) => p.x);
  // The axis spans the steps drawn, no more (no "nice" rounding past the last step).
  const domain = xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : undefined;
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: o.xTitle,
    scale: { nice: false, ...(domain ? { domain } : {}) },
  };
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: o.yTitle,
    // A margin of 8 px: a line at the lowest or highest value never sits on the axis.
    scale: { zero: false, padding: 8, ...(o.logY ? { type: "log" as const } : {}) },
  };
  return { x, y };
}

/** The encodings shared by the layers of a line chart. */
type LineEncoding = ReturnType<typeof lineAxes> & {
  color: { field: string; type: "nominal"; title: null; sort: string[] };
};

/**
 * The layers of the faint series (noisy per-step values): the raw line thin and light, and a
 * moving average over ±2 % of a series' points on top, within each segment between rules (it
 * never averages across a phase boundary, and lags nowhere); both go under the solid series.
 */
function faintLayers(o: LineChartOptions, { x, y, color }: LineEncoding) {
  const faint = o.faint ?? [];
  const faintOnly = { filter: "datum.faint" };
  const perSeries = o.points.filter((p) => faint.includes(p.series)).length /
    Math.max(1, new Set(o.points.map((p) => `${p.series}|${p.facet ?? ""}|${p.seed ?? 0}`)).size);
  const frame = Math.max(1, Math.round(perSeries / 50));
  return [{
    transform: [faintOnly],
    mark: { type: "line" as const, strokeWidth: 1, opacity: 0.3, clip: true },
    encoding: { x, y: { ...y, aggregate: "mean" as const }, color },
  }, {
    transform: [faintOnly, {
      window: [{ op: "mean" as const, field: "y", as: "smooth" }],
      frame: [-frame, frame],
      groupby: ["series", "facet", "seed", "segment"],
      sort: [{ field: "x" }],
    }],
    mark: { type: "line" as const, strokeWidth: 1.5, clip: true },
    encoding: { x, y: { ...y, field: "smooth", aggregate: "mean" as const }, color },
  }];
}

/** The layers of the rules: a dashed vertical line at each, its label at the top. */
function ruleLayers(x: LineEncoding["x"]) {
  const rulesOnly = { filter: "datum.kind === 'rule'" };
  return [{
    transform: [rulesOnly],
    mark: { type: "rule" as const, strokeDash: [4, 4], color: "#888" },
    encoding: { x },
  }, {
    transform: [rulesOnly],
    mark: {
      type: "text" as const,
      align: "left" as const,
      baseline: "top" as const,
      dx: 3,
      dy: 3,
      color: "#666",
    },
    encoding: { x, y: { value: 0 }, text: { field: "label" } },
  }];
}

/** One bar: `y` of `series` in group `group` (from seed `seed`). */
export interface Bar {
  group: string;
  series: string;
  y: number;
  seed?: number;
}

/**
 * Grouped bars (mean over seeds, with the standard deviation as an error bar when there are
 * several seeds) and a zero line. A bar lower than 2 % of the tallest one (e.g. a forgetting of
 * exactly 0) carries its value as text, so it is seen although it has no height.
 *
 * @param o Title, axis titles and bars.
 * @returns The Vega-Lite spec.
 *
 * @example
 * ```ts
 * import { barChart } from "./charts.ts";
 * const spec = barChart({ title: "t", xTitle: "class", yTitle: "rise", bars: [{ group: "en", series: "a", y: 1 }] });
 * console.assert(JSON.stringify(spec).includes('"bar"'));
 * ```
 */
export function barChart(
  o: { title: string; xTitle: string; yTitle: string; bars: Bar[] },
): TopLevelSpec {
  const seeds = new Set(o.bars.map((b) => b.seed ?? 0)).size;
  const x = {
    field: "group",
    type: "nominal" as const,
    title: o.xTitle,
    sort: null,
    axis: { labelAngle: 0 },
  };
  const xOffset = { field: "series", type: "nominal" as const, sort: null };
  const y = { field: "y", type: "quantitative" as const, title: o.yTitle };
  const color = { field: "series", type: "nominal" as const, title: null, sort: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.title,
    width: 480,
    height: 260,
    data: { values: o.bars },
    config: { legend: { labelLimit: 0 } },
    layer: [
      { mark: "bar", encoding: { x, xOffset, color, y: { ...y, aggregate: "mean" } } },
      ...(seeds > 1
        ? [{
          mark: { type: "errorbar" as const, extent: "stdev" as const },
          encoding: { x, xOffset, y },
        }]
        : []),
      { mark: { type: "rule", color: "#444" }, encoding: { y: { datum: 0 } } },
      {
        transform: [
          { aggregate: [{ op: "mean", field: "y", as: "mean" }], groupby: ["group", "series"] },
          { calculate: "abs(datum.mean)", as: "size" },
          { joinaggregate: [{ op: "max", field: "size", as: "tallest" }] },
          { filter: "datum.size <= 0.02 * datum.tallest" },
        ],
        mark: { type: "text", dy: -7, fontSize: 9, color: "#333" },
        encoding: {
          x,
          xOffset,
          y: { field: "mean", type: "quantitative" },
          text: { field: "mean", type: "quantitative", format: ".3f" },
        },
      },
    ],
  } as TopLevelSpec;
}
