/**
 * Small Markdown writers for reports: tables and number formatting.
 *
 * @module
 */
import { stats } from "./stats.ts";

/**
 * A GitHub-flavoured Markdown table; numeric columns are right-aligned.
 *
 * @param header Column titles.
 * @param rows Cells (numbers are printed as given: format them first).
 * @returns The table, ending in a newline.
 *
 * @example
 * ```ts
 * import { mdTable } from "./markdown.ts";
 * console.assert(mdTable(["a", "b"], [["x", "1.0"]]) === "| a | b |\n| --- | ---: |\n| x | 1.0 |\n");
 * ```
 */
export function mdTable(header: string[], rows: string[][]): string {
  const numeric = header.map((_, j) =>
    rows.length > 0 && rows.every((r) => /^[-+−]?[\d.]+( ± [\d.]+)?$|^–$/.test(r[j] ?? ""))
  );
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(header),
    `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n") + "\n";
}

/**
 * Formats a number with fixed decimals; non-finite values print as `–`.
 *
 * @example
 * ```ts
 * import { fixed } from "./markdown.ts";
 * console.assert(fixed(1.23456, 3) === "1.235" && fixed(NaN) === "–");
 * ```
 */
export function fixed(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

/**
 * Formats a mean and a standard deviation as `mean ± std` (just the mean for a single value).
 *
 * @example
 * ```ts
 * import { meanStd } from "./markdown.ts";
 * console.assert(meanStd([1, 3], 2) === "2.00 ± 1.41" && meanStd([2], 1) === "2.0");
 * ```
 */
export function meanStd(values: number[], digits = 3): string {
  const { mean, std } = stats(values);
  return values.length > 1 ? `${fixed(mean, digits)} ± ${fixed(std, digits)}` : fixed(mean, digits);
}
