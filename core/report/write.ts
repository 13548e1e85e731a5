/**
 * Writing rendered charts into a report directory, each file atomically.
 *
 * @module
 */
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../files/mod.ts";
import { renderChart } from "./render.ts";

/** A chart to write as `NAME.svg` and `NAME.png`. */
export interface NamedChart {
  name: string;
  /** One line saying what it shows (the image's alt text in report.md). */
  caption: string;
  spec: TopLevelSpec;
}

/**
 * Renders each chart and writes `DIR/NAME.svg` and `DIR/NAME.png` (each through a temporary file
 * and a rename).
 *
 * @param dir Output directory (created if missing).
 * @param charts The charts.
 * @returns The PNG size of each chart by name.
 */
export async function writeCharts(
  dir: string,
  charts: NamedChart[],
): Promise<Record<string, { width: number; height: number }>> {
  await Deno.mkdir(dir, { recursive: true });
  const sizes: Record<string, { width: number; height: number }> = {};
  for (const c of charts) {
    const r = await renderChart(c.spec);
    await writeFileAtomic(join(dir, `${c.name}.svg`), r.svg);
    await writeFileAtomic(join(dir, `${c.name}.png`), r.png);
    sizes[c.name] = { width: r.width, height: r.height };
  }
  return sizes;
}

/** The Markdown that shows a chart written by {@linkcode writeCharts} (PNG, linking the SVG). */
export function chartMarkdown(c: NamedChart): string {
  return `[![${c.caption}](${c.name}.png)](${c.name}.svg)\n`;
}
