/**
 * Charts from declarative Vega-Lite specs: `vega-lite` compiles the spec to Vega, Vega's headless
 * view renders it to SVG (no canvas needed), and resvg (WebAssembly, so no native addon and no
 * install script) rasterizes the SVG to PNG.
 *
 * Text uses Source Sans 3 from Adobe's own npm package `source-sans` (SIL Open Font License 1.1,
 * its `LICENSE.md` ships beside the font): resvg is given the font bytes and never looks for system
 * fonts, so a PNG looks the same on every machine.
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** The family every chart's text is set in (the bundled font). */
export const CHART_FONT = "Source Sans 3";

/** A rendered chart. */
export interface RenderedChart {
  svg: string;
  png: Uint8Array;
  /** PNG size in pixels. */
  width: number;
  height: number;
}

let engine: Promise<Uint8Array> | null = null;

/** Loads the resvg WebAssembly module and the font once per process. */
function loadEngine(): Promise<Uint8Array> {
  engine ??= (async () => {
    const wasm = await Deno.readFile(
      new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm")),
    );
    await initWasm(wasm);
    return await Deno.readFile(
      new URL(import.meta.resolve("source-sans/TTF/SourceSans3-Regular.ttf")),
    );
  })();
  return engine;
}

/**
 * Renders a Vega-Lite spec to SVG and PNG.
 *
 * @param spec The chart (its `config.font` defaults to {@linkcode CHART_FONT}).
 * @param scale Pixels per SVG unit in the PNG (2 gives sharp text on high-density screens).
 * @returns The SVG text, the PNG bytes and the PNG's size.
 * @throws {Error} If the spec does not compile.
 *
 * @example
 * ```ts
 * import { renderChart } from "./render.ts";
 * const chart = await renderChart({
 *   width: 100, height: 50, mark: "line",
 *   data: { values: [{ x: 1, y: 2 }, { x: 2, y: 1 }] },
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * console.assert(chart.svg.startsWith("<svg") && chart.png[1] === 0x50); // "P" of \x89PNG
 * ```
 */
export async function renderChart(spec: TopLevelSpec, scale = 2): Promise<RenderedChart> {
  const withFont = { ...spec, config: { font: CHART_FONT, ...spec.config } } as TopLevelSpec;
  let view: View;
  try {
    view = new View(parse(compile(withFont).spec), { renderer: "none" });
  } catch (error) {
    const title = typeof spec.title === "string" ? ` "${spec.title}"` : "";
    throw new Error(`Cannot compile chart${title}: ${(error as Error).message}`);
  }
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const font = await loadEngine();
  const resvg = new Resvg(svg, {
    font: { fontBuffers: [font], defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  });
  try {
    const image = resvg.render();
    const png = image.asPng();
    const size = { width: image.width, height: image.height };
    image.free();
    return { svg, png, ...size };
  } finally {
    resvg.free();
  }
}
