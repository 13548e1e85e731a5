/**
 * Small Markdown writers for reports: tables and number formatting.
 *
 * @module
 */
import { type Interval, stats } from "./stats.ts";

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

/**
 * A path as a report shows it: relative paths as given; an absolute path by its last two parts
 * (`/home/me/study/tokens` → `…/study/tokens`), so a report never names the machine's folders.
 *
 * @example
 * ```ts
 * import { shownPath } from "./markdown.ts";
 * console.assert(shownPath("/home/me/study/tokens") === "…/study/tokens");
 * console.assert(shownPath("study/tokens") === "study/tokens" && shownPath("/x") === "…/x");
 * ```
 */
export function shownPath(path: string): string {
  if (!path.startsWith("/")) return path;
  const parts = path.split("/").filter((p) => p !== "");
  return "…/" + parts.slice(-2).join("/");
}

/**
 * Text with every absolute path in it shown by {@linkcode shownPath} (a path: `/` after a space,
 * a quote, `=`, `(` or the start, then at least one more `/`-separated part).
 *
 * @example
 * ```ts
 * import { withoutAbsolutePaths } from "./markdown.ts";
 * const cmd = "moe experiment alpha --data /home/me/study/tokens --out study/alpha";
 * console.assert(withoutAbsolutePaths(cmd) === "moe experiment alpha --data …/study/tokens --out study/alpha");
 * console.assert(withoutAbsolutePaths("lr/10 and CE/KD") === "lr/10 and CE/KD");
 * ```
 */
export function withoutAbsolutePaths(text: string): string {
  return text.replace(
    /(^|[\s"'`=(])(\/[^\s"'`)/]+(?:\/[^\s"'`)/]+)+)/g,
    (_, before: string, path: string) => before + shownPath(path),
  );
}

/**
 * A signed number with fixed decimals (`+0.012`, `−0.003` with a true minus sign).
 *
 * @example
 * ```ts
 * import { signed } from "./markdown.ts";
 * console.assert(signed(0.0123) === "+0.012" && signed(-0.5, 1) === "−0.5");
 * ```
 */
export function signed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return "–";
  const s = Math.abs(x).toFixed(digits);
  return (x < 0 && Number(s) !== 0 ? "−" : "+") + s;
}

/**
 * A mean with its confidence interval: `−0.010 [−0.050, +0.030]`, or the mean alone when there
 * is no interval (fewer than 2 values).
 *
 * @example
 * ```ts
 * import { intervalText } from "./markdown.ts";
 * import { tInterval } from "./stats.ts";
 * console.assert(intervalText(tInterval([-1, -2, -3]), 2) === "−2.00 [−4.48, +0.48]");
 * console.assert(intervalText(tInterval([0.5]), 1) === "+0.5");
 * ```
 */
export function intervalText(ci: Interval, digits = 3): string {
  const mean = signed(ci.mean, digits);
  if (!Number.isFinite(ci.lo) || !Number.isFinite(ci.hi)) return mean;
  return `${mean} [${signed(ci.lo, digits)}, ${signed(ci.hi, digits)}]`;
}
