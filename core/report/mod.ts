/**
 * Reports of training runs and experiments: reading `metrics.jsonl`, summaries, Markdown tables,
 * and declarative charts (Vega-Lite → SVG with Vega → PNG with resvg, text in a bundled font).
 *
 * @example
 * ```ts
 * import { mdTable } from "./mod.ts";
 * console.assert(mdTable(["class"], [["en"]]).startsWith("| class |"));
 * ```
 *
 * @module
 */
export * from "./run_metrics.ts";
export * from "./stats.ts";
export * from "./summary.ts";
export * from "./markdown.ts";
export * from "./charts.ts";
export * from "./render.ts";
export * from "./write.ts";
export * from "./run_report.ts";
