/**
 * The rows the MoE-variants study compares (which bundle, which `evaluateBundle` row) and what
 * its `eval` sub-run writes.
 *
 * @module
 */
import type { RoutingReport, Score } from "../../pipeline/moe/mod.ts";
import { MOE_VARIANT_SPECS, type VariantName } from "../../models/moe_variant_specs.ts";

/** Name of the evaluation sub-run; it writes {@linkcode EVAL_FILE} into its directory. */
export const EVAL_RUN = "eval";
/** The evaluation's results (a {@linkcode VariantsEval}). */
export const EVAL_FILE = "eval.json";

/** One row of the comparison: which bundle and which `evaluateBundle` row it is. */
export interface VariantRow {
  key: string;
  title: string;
  /** The variant whose bundle the row evaluates. */
  bundle: VariantName;
  row: string;
}

/** The rows of the report, in order. */
export const VARIANT_ROWS: readonly VariantRow[] = [
  { key: "teacher", title: "teacher", bundle: "ple", row: "teacher" },
  {
    key: "common",
    title: "common expert alone (distilled, balanced)",
    bundle: "ple",
    row: "common",
  },
  { key: "ple-routed", title: "PLE, routed", bundle: "ple", row: "routed" },
  { key: "ple-oracle", title: "PLE, oracle routing", bundle: "ple", row: "oracle" },
  { key: "jeet-routed", title: "JEET, routed", bundle: "jeet", row: "routed" },
  { key: "jeet-oracle", title: "JEET, oracle routing", bundle: "jeet", row: "oracle" },
  {
    key: "moe-ce-routed+common",
    title: "MoE-CE, routed + common",
    bundle: "moe-ce",
    row: "routed+common",
  },
  {
    key: "moe-ce-oracle+common",
    title: "MoE-CE, oracle + common",
    bundle: "moe-ce",
    row: "oracle+common",
  },
  {
    key: "moe-ce-routed",
    title: "MoE-CE, routed, without common",
    bundle: "moe-ce",
    row: "routed",
  },
  { key: "moe-ce-common", title: "MoE-CE common stack alone", bundle: "moe-ce", row: "common" },
];

/** One uniform expert average of one bundle (the paper's evaluation, `uniform_average.ts`). */
export interface AverageRow {
  bundle: VariantRow["bundle"];
  /** The experts averaged with equal weights (classes, and `common`). */
  members: string[];
  perClass: Record<string, Score>;
  mean: Score;
}

/** What the `eval` sub-run writes. */
export interface VariantsEval {
  seqLen: number;
  /** Sequences evaluated per class. */
  sequences: Record<string, number>;
  rows: { key: string; perClass: Record<string, Score>; mean: Score }[];
  /** The paper's uniform averages of every bundle (absent in studies run before they existed). */
  averages?: AverageRow[];
  routing: Record<string, RoutingReport>;
}

/** The title of a uniform average's row: `PLE: en + py + common (uniform)`. */
export function averageTitle(a: Pick<AverageRow, "bundle" | "members">): string {
  return `${MOE_VARIANT_SPECS[a.bundle].title}: ${a.members.join(" + ")} (uniform)`;
}
