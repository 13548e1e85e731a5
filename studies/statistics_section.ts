/**
 * The section every study's report ends its numbers with: how they are compared — paired by
 * seed, 95 % Student-t intervals, and the verdict rule.
 *
 * @module
 */
import type { Section } from "./experiment.ts";

/**
 * The report section that says how the numbers are compared (every study's reports).
 *
 * @example
 * ```ts
 * import { statisticsSection } from "./statistics_section.ts";
 * console.assert(statisticsSection().body.includes("excludes 0"));
 * ```
 *
 * @param noise What run-to-run noise was measured, in one sentence (or empty).
 */
export function statisticsSection(noise = ""): Section {
  return {
    title: "How the numbers are compared",
    body: [
      "Every comparison is paired by seed: the two settings ran with the same seed, so the same initialization and data order, and the report works on the differences seed by seed.",
      "Their mean is given with a 95 % confidence interval from Student's t distribution with n − 1 degrees of freedom (n seeds): mean ± t₀.₉₇₅,ₙ₋₁ · s / √n.",
      "A claim of the paper is **agree** or **disagree** only when that interval excludes 0, and **inconclusive** when it contains 0 (or with one seed).",
      ...(noise ? [noise] : []),
    ].join(" ") + "\n",
  };
}
