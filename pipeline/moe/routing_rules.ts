/**
 * The routing rules compared on prompt → continuation (issue 18). Each sequence of `T` tokens
 * is split at `prefix` tokens: the prompt (tokens `0…P−1`) and its continuation (tokens `P…T`,
 * predicted at positions `P−1…T−1`). Every rule decides from the prompt alone:
 *
 * - `router`: the n-gram router's probabilities on the prompt's decoded text;
 * - `likelihood`, `combined`: `decideRoute` on each candidate's log-likelihood of the prompt,
 *   `−Σ` of its per-token losses at positions `0…P−2` (tokens `1…P−1`; the first token is not
 *   predicted), what a prefill of the prompt gives;
 * - `oracle-label`: the sequence's class (only when it is known);
 * - `oracle-best`: the candidate with the lowest continuation loss (regret 0 by definition).
 *
 * Each is scored on the continuation only: mean loss, mean regret against `oracle-best`, the
 * share of best choices, label accuracy and macro-F1 (chosen expert vs the sequence's class),
 * and the decision's cost in ms per prompt as measured in evaluation: for `router` the time of
 * `router.route` on the prompt; for `likelihood` and `combined` the decision given the scores —
 * generation also pays one prefill per expert (K prefills instead of one), which `moe generate`
 * reports. A candidate is what generation would run for the expert: alone, or with the common
 * expert for MoE-CE bundles, so both its prompt log-likelihood and its continuation loss are
 * those of `expert+common`.
 *
 * @module
 */
import { classificationReport, decideRoute, ROUTE_RULES } from "../../core/routing/mod.ts";
import type { RouteRule } from "../../core/routing/mod.ts";
import { lowest, spanMean } from "./routing_regret.ts";
import type { Losses } from "./token_losses.ts";

/** A routing rule compared: the three of `decideRoute` and the two oracles. */
export type RuleName = RouteRule | "oracle-label" | "oracle-best";

/** Every rule, in report order. */
export const RULE_NAMES: readonly RuleName[] = [...ROUTE_RULES, "oracle-label", "oracle-best"];

/** What the comparison reads: every candidate's per-token losses and the router's prompts. */
export interface RuleInput {
  /** Tokens per sequence T (every position counted). */
  seqLen: number;
  /** Prompt tokens P, 1 ≤ P ≤ T. */
  prefix: number;
  /** Candidate (a class) → sequence set (a class, or a file) → `[rows, T]` losses. */
  candidates: ReadonlyMap<string, ReadonlyMap<string, Losses>>;
  /** Per sequence set: the router's probabilities on each sequence's prompt. */
  router: ReadonlyMap<string, readonly Readonly<Record<string, number>>[]>;
  /** Measured time of the router on one prompt (ms). */
  routerMs: number;
  /** Per sequence set: the class of its sequences, or null when unknown. */
  labels: ReadonlyMap<string, string | null>;
}

/** One rule's scores on the continuations of one sequence set, or of all. */
export interface RuleScore {
  /** Mean continuation loss (nats per token). */
  loss: number;
  /** Mean regret against `oracle-best` (nats per token). */
  regret: number;
  /** Share of sequences whose choice was the best candidate. */
  bestShare: number;
  /** Share of sequences sent to their class's expert (null without labels). */
  accuracy: number | null;
}

/** One rule's comparison. */
export interface RuleReport extends RuleScore {
  rule: RuleName;
  /** Macro-F1 of the chosen experts against the classes (null without labels). */
  macroF1: number | null;
  /** Decision cost per prompt as measured here (null for the oracles). */
  msPerPrompt: number | null;
  /** Per sequence set. */
  perSet: Record<string, RuleScore>;
  /** Per sequence set: how many sequences went to each candidate. */
  choices: Record<string, Record<string, number>>;
}

/** What `moe eval` reports as `routingRules`. */
export interface RoutingRulesReport {
  /** Prompt tokens. */
  prefix: number;
  /** Continuation tokens scored per sequence. */
  continuation: number;
  /** `expert` or `expert+common`: what a candidate runs. */
  candidate: string;
  rules: RuleReport[];
}

/**
 * Checks that a prompt of `prefix` tokens leaves a continuation in sequences of `seqLen`.
 *
 * @throws {RangeError} If `prefix` is not an integer from 1 to `seqLen`.
 *
 * @example
 * ```ts
 * import { checkRoutePrefix } from "./routing_rules.ts";
 * checkRoutePrefix(32, 64);
 * ```
 */
export function checkRoutePrefix(prefix: number, seqLen: number): void {
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > seqLen) {
    throw new RangeError(
      `Cannot split sequences of ${seqLen} tokens at a prompt of ${prefix} tokens: it must be 1 to ${seqLen}`,
    );
  }
}

/**
 * Each candidate's summed log-likelihood (nats, float64) of the prompt of sequence `row`.
 *
 * @example
 * ```ts
 * import { promptLogLikelihoods } from "./routing_rules.ts";
 * const c = new Map([["en", new Map([["x", new Float32Array([1, 2, 4, 8])]])]]);
 * // A prompt of 3 tokens: tokens 1 and 2, predicted at positions 0 and 1.
 * console.assert(promptLogLikelihoods(c, "x", 0, 4, 3).en === -3);
 * ```
 */
export function promptLogLikelihoods(
  candidates: RuleInput["candidates"],
  set: string,
  row: number,
  seqLen: number,
  prefix: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, l] of candidates) {
    let s = 0;
    for (let t = row * seqLen; t < row * seqLen + prefix - 1; t++) s += l.get(set)![t]!;
    out[name] = -s;
  }
  return out;
}

/**
 * Every rule's choice for every sequence (the oracle-label only with a label), and the time of
 * the `likelihood` and `combined` decisions per prompt.
 *
 * @returns Rule → sequence set → chosen candidate per sequence; and ms per prompt by rule.
 */
export function ruleChoices(
  input: RuleInput,
): { choices: Map<RuleName, Map<string, string[]>>; ms: Map<RuleName, number> } {
  const { seqLen, prefix, candidates } = input;
  const choices = new Map<RuleName, Map<string, string[]>>(RULE_NAMES.map((r) => [r, new Map()]));
  const elapsed = new Map<RuleName, number>(ROUTE_RULES.map((r) => [r, 0]));
  let prompts = 0;
  for (const [set, probabilities] of input.router) {
    for (const rule of RULE_NAMES) choices.get(rule)!.set(set, []);
    const label = input.labels.get(set) ?? null;
    probabilities.forEach((p, row) => {
      prompts++;
      const scores = promptLogLikelihoods(candidates, set, row, seqLen, prefix);
      for (const rule of ROUTE_RULES) {
        const start = performance.now();
        const { best } = decideRoute(rule, p, scores, prefix - 1);
        elapsed.set(rule, elapsed.get(rule)! + performance.now() - start);
        choices.get(rule)!.get(set)!.push(best);
      }
      if (label !== null) choices.get("oracle-label")!.get(set)!.push(label);
      choices.get("oracle-best")!.get(set)!.push(lowest(continuationMeans(input, set, row)));
    });
  }
  const ms = new Map([...elapsed].map(([r, t]) => [r, t / Math.max(1, prompts)]));
  ms.set("router", input.routerMs);
  return { choices, ms };
}

/** Each candidate's mean continuation loss on sequence `row` of `set`. */
function continuationMeans(input: RuleInput, set: string, row: number): Map<string, number> {
  const { seqLen, prefix } = input;
  const from = row * seqLen + prefix - 1, to = (row + 1) * seqLen;
  return new Map([...input.candidates].map(([n, l]) => [n, spanMean(l.get(set)!, from, to)]));
}

/**
 * Compares the rules (see the module doc).
 *
 * @param input The candidates' losses, the router's probabilities on the prompts, the labels.
 * @param candidate What a candidate runs (`expert`, `expert+common`), for the report.
 * @returns One report per rule that applies (`oracle-label` only when every set has a label).
 * @throws {RangeError} If the prefix leaves no continuation.
 */
export function compareRoutingRules(input: RuleInput, candidate: string): RoutingRulesReport {
  checkRoutePrefix(input.prefix, input.seqLen);
  const { choices, ms } = ruleChoices(input);
  const labelled = [...input.router.keys()].every((s) => (input.labels.get(s) ?? null) !== null);
  const rules = RULE_NAMES.filter((r) => r !== "oracle-label" || labelled).map((rule) =>
    ruleReport(input, rule, choices.get(rule)!, labelled, ms.get(rule) ?? null)
  );
  return {
    prefix: input.prefix,
    continuation: input.seqLen - input.prefix + 1,
    candidate,
    rules,
  };
}

/** One rule's scores from its choices. */
function ruleReport(
  input: RuleInput,
  rule: RuleName,
  chosen: ReadonlyMap<string, string[]>,
  labelled: boolean,
  msPerPrompt: number | null,
): RuleReport {
  const classes = [...input.candidates.keys()];
  const truth: number[] = [], predicted: number[] = [];
  const perSet: Record<string, RuleScore> = {};
  const choices: Record<string, Record<string, number>> = {};
  for (const [set, picks] of chosen) {
    const label = input.labels.get(set) ?? null;
    let loss = 0, regret = 0, best = 0, right = 0;
    const counts: Record<string, number> = {};
    picks.forEach((pick, row) => {
      const means = continuationMeans(input, set, row);
      const min = means.get(lowest(means))!, got = means.get(pick)!;
      loss += got;
      regret += got - min;
      if (got === min) best++;
      if (pick === label) right++;
      counts[pick] = (counts[pick] ?? 0) + 1;
      if (label !== null) {
        truth.push(classes.indexOf(label));
        predicted.push(classes.indexOf(pick));
      }
    });
    const n = Math.max(1, picks.length);
    perSet[set] = {
      loss: loss / n,
      regret: regret / n,
      bestShare: best / n,
      accuracy: label === null ? null : right / n,
    };
    choices[set] = counts;
  }
  const sets = Object.values(perSet), k = Math.max(1, sets.length);
  const mean = (f: (s: RuleScore) => number) => sets.reduce((a, s) => a + f(s), 0) / k;
  const report = labelled ? classificationReport(classes, truth, predicted) : null;
  return {
    rule,
    loss: mean((s) => s.loss),
    regret: mean((s) => s.regret),
    bestShare: mean((s) => s.bestShare),
    accuracy: report?.accuracy ?? null,
    macroF1: report?.macro.f1 ?? null,
    msPerPrompt: rule.startsWith("oracle") ? null : msPerPrompt,
    perSet,
    choices,
  };
}

/**
 * The comparison as a markdown table: one row per rule.
 *
 * @example
 * ```ts
 * import { formatRoutingRules } from "./routing_rules.ts";
 * const t = formatRoutingRules({ prefix: 32, continuation: 33, candidate: "expert", rules: [] });
 * console.assert(t.startsWith("Routing rules on a prompt of 32 tokens"));
 * ```
 */
export function formatRoutingRules(report: RoutingRulesReport): string {
  const head = ["rule", "loss", "regret", "best expert", "label accuracy", "macro-F1", "ms/prompt"];
  const pct = (v: number | null) => v === null ? "–" : `${(100 * v).toFixed(1)} %`;
  return [
    `Routing rules on a prompt of ${report.prefix} tokens, scored on the next ${report.continuation} (candidates: ${report.candidate}; loss and regret in nats/token):`,
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...report.rules.map((r) =>
      `| ${
        [
          r.rule,
          r.loss.toFixed(4),
          r.regret.toFixed(4),
          pct(r.bestShare),
          pct(r.accuracy),
          r.macroF1 === null ? "–" : r.macroF1.toFixed(3),
          r.msPerPrompt === null ? "–" : r.msPerPrompt.toFixed(4),
        ].join(" | ")
      } |`
    ),
  ].join("\n");
}
