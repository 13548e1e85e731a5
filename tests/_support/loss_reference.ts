/**
 * Float64 references of the losses on plain arrays — the definitions the graph forms are tested
 * against. Slow and simple on purpose: one row at a time, no graph.
 *
 * @module
 */
import type { KDDirection } from "../../core/losses/distillation_loss.ts";
import { TOPK_LOGPROB_FLOOR, TOPK_REST_FLOOR } from "../../core/losses/kl.ts";

/** `log softmax(row / τ)` in float64. */
export function logSoftmaxReference(row: readonly number[], temperature = 1): number[] {
  const z = row.map((v) => v / temperature);
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** Mean of `perRow(i)` over rows whose target is ≥ 0 (0 when none), times `scale`. */
function tokenMean(targets: readonly number[], perRow: (i: number) => number, scale = 1): number {
  let sum = 0, count = 0;
  targets.forEach((t, i) => {
    if (t < 0) return;
    sum += perRow(i);
    count++;
  });
  return count ? scale * sum / count : 0;
}

/** Σᵢ exp(a) (a − b) over paired log-probabilities: KL(exp a ‖ exp b). */
function klOfLogs(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, ai, i) => s + Math.exp(ai) * (ai - b[i]!), 0);
}

/**
 * Cross-entropy `meanₙ −log softmax(logitsₙ)[targetₙ]` over targets ≥ 0 (0 when none).
 *
 * @example
 * ```ts
 * import { crossEntropyReference } from "./loss_reference.ts";
 * const ce = crossEntropyReference([[0, 0], [1, 2]], [1, -1]);
 * console.assert(Math.abs(ce - Math.LN2) < 1e-12);
 * ```
 */
export function crossEntropyReference(logits: number[][], targets: number[]): number {
  return tokenMean(targets, (i) => -logSoftmaxReference(logits[i]!)[targets[i]!]!);
}

/**
 * `τ² · meanₙ Σᵥ p_T (log p_T − log q_S)` at temperature τ, over targets ≥ 0.
 *
 * @example
 * ```ts
 * import { forwardKLReference } from "./loss_reference.ts";
 * console.assert(forwardKLReference([[1, 2, 3]], [[1, 2, 3]], [0], 2) === 0);
 * ```
 */
export function forwardKLReference(
  student: number[][],
  teacher: number[][],
  targets: number[],
  temperature: number,
): number {
  return tokenMean(targets, (i) => {
    const lq = logSoftmaxReference(student[i]!, temperature);
    return klOfLogs(logSoftmaxReference(teacher[i]!, temperature), lq);
  }, temperature * temperature);
}

/**
 * `τ² · meanₙ Σᵥ q_S (log q_S − log p_T)` at temperature τ, over targets ≥ 0.
 *
 * @example
 * ```ts
 * import { reverseKLReference } from "./loss_reference.ts";
 * console.assert(reverseKLReference([[0, 1]], [[1, 0]], [0], 1) > 0);
 * ```
 */
export function reverseKLReference(
  student: number[][],
  teacher: number[][],
  targets: number[],
  temperature: number,
): number {
  return tokenMean(targets, (i) => {
    const lp = logSoftmaxReference(teacher[i]!, temperature);
    return klOfLogs(logSoftmaxReference(student[i]!, temperature), lp);
  }, temperature * temperature);
}

/** A teacher's top-k cache entries: ids and log-probabilities at τ, best first. */
export interface TopKReference {
  ids: number[][];
  logProbs: number[][];
}

/**
 * The top-k cache a teacher with these logits yields at temperature τ: per row, the k most
 * likely ids (ties to the lower id) and their log-probabilities over the whole vocabulary.
 *
 * @example
 * ```ts
 * import { topKReference } from "./loss_reference.ts";
 * const { ids } = topKReference([[0, 3, 1]], 2, 1);
 * console.assert(ids[0]!.join() === "1,2");
 * ```
 */
export function topKReference(teacher: number[][], k: number, temperature: number): TopKReference {
  const ids: number[][] = [], logProbs: number[][] = [];
  for (const row of teacher) {
    const lp = logSoftmaxReference(row, temperature);
    const order = lp.map((_, v) => v).sort((a, b) => lp[b]! - lp[a]! || a - b).slice(0, k);
    ids.push(order);
    logProbs.push(order.map((v) => lp[v]!));
  }
  return { ids, logProbs };
}

/**
 * Log-probabilities of the (k + 1) buckets of one row: the student's and the teacher's over the
 * stored ids, then (when k < V) the rest bucket, with the same floors as the graph form.
 */
function bucketLogs(
  student: number[],
  ids: number[],
  logProbs: number[],
  temperature: number,
): { lq: number[]; lp: number[]; pRest: number } {
  const all = logSoftmaxReference(student, temperature);
  const lq = ids.map((v) => all[v]!), lp = logProbs.map((v) => Math.max(v, TOPK_LOGPROB_FLOOR));
  if (ids.length === student.length) return { lq, lp, pRest: 0 };
  const top = new Set(ids);
  const outside = all.filter((_, v) => !top.has(v)); // log q_rest as a log-sum-exp
  const m = Math.max(...outside);
  const pRest = Math.max(0, 1 - lp.reduce((s, l) => s + Math.exp(l), 0));
  lq.push(m + Math.log(outside.reduce((s, l) => s + Math.exp(l - m), 0)));
  lp.push(Math.log(Math.max(pRest, TOPK_REST_FLOOR)));
  return { lq, lp, pRest };
}

/**
 * Forward KL between the (k + 1)-bucket distributions of a top-k teacher cache and the student
 * (see `forwardKLTopK`), `τ²`-scaled and averaged over targets ≥ 0.
 *
 * @example
 * ```ts
 * import { forwardKLReference, forwardKLTopKReference, topKReference } from "./loss_reference.ts";
 * const s = [[0.5, -1, 2]], t = [[1, 0, 0.3]];
 * const c = topKReference(t, 3, 2);
 * const gap = forwardKLTopKReference(s, c.ids, c.logProbs, [0], 2) - forwardKLReference(s, t, [0], 2);
 * console.assert(Math.abs(gap) < 1e-12);
 * ```
 */
export function forwardKLTopKReference(
  student: number[][],
  topIds: number[][],
  topLogProbs: number[][],
  targets: number[],
  temperature: number,
): number {
  return tokenMean(targets, (i) => {
    const b = bucketLogs(student[i]!, topIds[i]!, topLogProbs[i]!, temperature);
    // The rest term is p_rest (log p_rest − log q_rest), with the unfloored p_rest in front.
    const k = topIds[i]!.length;
    const top = klOfLogs(b.lp.slice(0, k), b.lq.slice(0, k));
    return b.lp.length > k ? top + b.pRest * (b.lp[k]! - b.lq[k]!) : top;
  }, temperature * temperature);
}

/**
 * Reverse KL from the student's (k + 1)-bucket distribution to a top-k teacher cache's (see
 * `reverseKLTopK`), `τ²`-scaled and averaged over targets ≥ 0.
 *
 * @example
 * ```ts
 * import { reverseKLTopKReference, topKReference } from "./loss_reference.ts";
 * const c = topKReference([[1, 0, 0.3]], 2, 1);
 * console.assert(reverseKLTopKReference([[1, 0, 0.3]], c.ids, c.logProbs, [0], 1) < 1e-12);
 * ```
 */
export function reverseKLTopKReference(
  student: number[][],
  topIds: number[][],
  topLogProbs: number[][],
  targets: number[],
  temperature: number,
): number {
  return tokenMean(targets, (i) => {
    const b = bucketLogs(student[i]!, topIds[i]!, topLogProbs[i]!, temperature);
    return klOfLogs(b.lq, b.lp);
  }, temperature * temperature);
}

/** The teacher of {@link distillReference}: full logits or top-k cache entries. */
export type TeacherReference =
  | { kind: "logits"; logits: number[][] }
  | { kind: "topk"; ids: number[][]; logProbs: number[][] };

/**
 * `{loss: α·CE + (1 − α)·KD, ce, kd}` as `distillObjective` computes it.
 *
 * @example
 * ```ts
 * import { distillReference } from "./loss_reference.ts";
 * const s = [[0, 1, 2]], teacher = { kind: "logits" as const, logits: [[2, 1, 0]] };
 * const r = distillReference(s, [2], teacher, { kd: "reverse", temperature: 2, alpha: 0.25 });
 * console.assert(Math.abs(r.loss - (0.25 * r.ce + 0.75 * r.kd)) < 1e-12);
 * ```
 */
export function distillReference(
  student: number[][],
  targets: number[],
  teacher: TeacherReference,
  opts: { kd: KDDirection; temperature: number; alpha: number },
): { loss: number; ce: number; kd: number } {
  const { temperature: tau, alpha } = opts;
  const ce = crossEntropyReference(student, targets);
  let kd: number;
  if (teacher.kind === "logits") {
    const f = opts.kd === "forward" ? forwardKLReference : reverseKLReference;
    kd = f(student, teacher.logits, targets, tau);
  } else {
    const f = opts.kd === "forward" ? forwardKLTopKReference : reverseKLTopKReference;
    kd = f(student, teacher.ids, teacher.logProbs, targets, tau);
  }
  return { loss: alpha * ce + (1 - alpha) * kd, ce, kd };
}
