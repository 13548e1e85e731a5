/**
 * Per-class loss plans of a distillation run: which α each step (or each micro-batch of a step)
 * trains with, from one α controller per class.
 *
 * A run whose steps are each one class — JEET and MoE-CE (`round-robin`: class
 * `order[(step − 1) mod K]`), a PLE expert — must not share one α history or one odd/even
 * counter between classes: with 4 classes in turn, "CE on odd steps, KD on even ones" gives en
 * and de only CE and fr and py only KD. So every class (a batch's one class, or
 * {@linkcode MIXED_BATCH} for batches that mix classes) has its own controller and its own visit
 * count, and the alternating schedule alternates in one of two ways:
 *
 * - `step`: each class alternates on its own visits — CE alone on its 1st, 3rd, … visit, KD alone
 *   on its 2nd, 4th, …; with one class (or mixed batches) this is CE on odd steps, KD on even ones;
 * - `micro-batch`: every step is cut into {@linkcode MICRO_BATCHES} micro-batches, CE alone on the
 *   first and KD alone on the second, their gradients averaged before the one optimizer update —
 *   what the paper's code does under gradient accumulation (arXiv 2407.19610's training script
 *   switches the loss per micro-batch).
 *
 * @module
 */
import { InvalidRequest } from "../../core/job/mod.ts";
import type { HostTensor, TrainingStep } from "../../core/runtime/mod.ts";
import {
  AlphaController,
  type AlphaRule,
  type AlphaState,
  type LossSchedule,
} from "./alpha_schedule.ts";

/** How `alternating` alternates: per class visit, or per micro-batch inside a step. */
export type Alternation = "step" | "micro-batch";

/** The values `--alternate` accepts. */
export const ALTERNATIONS: readonly Alternation[] = ["step", "micro-batch"];

/** Micro-batches of a `micro-batch`-alternating step: CE on the first, KD on the second. */
export const MICRO_BATCHES = 2;

/** The controller key of a batch whose rows are of several classes. */
export const MIXED_BATCH = "*";

/** One class's resumable state: its α rule's loss histories and how often it was trained. */
export interface ClassAlphaEntry {
  ce: number[];
  kd: number[];
  visits: number;
}

/** The resumable state of {@linkcode ClassAlphas}: one entry per class seen so far. */
export interface ClassAlphaState {
  classes: Record<string, ClassAlphaEntry>;
}

/**
 * The controller key of a batch: its one class, or {@linkcode MIXED_BATCH}.
 *
 * @example
 * ```ts
 * import { batchClass, MIXED_BATCH } from "./alternation.ts";
 * console.assert(batchClass(["fr", "fr"]) === "fr");
 * console.assert(batchClass(["fr", "en"]) === MIXED_BATCH);
 * ```
 */
export function batchClass(classes: readonly string[]): string {
  const first = classes[0];
  return first !== undefined && classes.every((c) => c === first) ? first : MIXED_BATCH;
}

/**
 * The α of each micro-batch of one visit of a class.
 *
 * @param schedule `combined`: one micro-batch at the controller's α; `alternating`: see the
 *   module doc.
 * @param alternate How `alternating` alternates.
 * @param visit The class's 1-based visit number (this step is its `visit`-th).
 * @param alpha The class's controller α for this visit (used by `combined` only).
 * @returns One α per micro-batch: `[α]` for a single fused step, `[1, 0]` for micro-batches.
 * @example
 * ```ts
 * import { visitAlphas } from "./alternation.ts";
 * console.assert(visitAlphas("combined", "step", 2, 0.3).join() === "0.3");
 * console.assert(visitAlphas("alternating", "step", 1, 0.3).join() === "1");
 * console.assert(visitAlphas("alternating", "step", 2, 0.3).join() === "0");
 * console.assert(visitAlphas("alternating", "micro-batch", 7, 0.3).join() === "1,0");
 * ```
 */
export function visitAlphas(
  schedule: LossSchedule,
  alternate: Alternation,
  visit: number,
  alpha: number,
): number[] {
  if (schedule === "combined") return [alpha];
  if (alternate === "micro-batch") return [1, 0];
  return [visit % 2 === 1 ? 1 : 0];
}

/**
 * Parses `--alternate`: `step` or `micro-batch`.
 *
 * @throws {InvalidRequest} For anything else (option `alternate`), naming the accepted values.
 * @example
 * ```ts
 * import { parseAlternation } from "./alternation.ts";
 * console.assert(parseAlternation("micro-batch") === "micro-batch");
 * ```
 */
export function parseAlternation(text: string): Alternation {
  const t = text.trim().toLowerCase();
  if (t === "step" || t === "micro-batch") return t;
  throw new InvalidRequest(
    (s) => `Invalid ${s.option("alternate")} "${text}": expected "step" or "micro-batch"`,
    { option: "alternate" },
  );
}

/**
 * One α controller and one visit counter per class (see the module doc); the whole state resumes
 * with a checkpoint.
 *
 * @example
 * ```ts
 * import { ClassAlphas } from "./alternation.ts";
 * const plans = new ClassAlphas({ kind: "fixed", alpha: 0.5 }, 100);
 * const seen = ["en", "fr", "en", "fr"].map((c) => plans.next(c, "alternating", "step").join());
 * console.assert(seen.join(" ") === "1 1 0 0"); // each class alternates on its own visits
 * ```
 */
export class ClassAlphas {
  readonly #rule: AlphaRule;
  readonly #visitsPerClass: number;
  readonly #controllers = new Map<string, AlphaController>();
  readonly #visits = new Map<string, number>();
  /** A legacy shared history that seeds classes not seen yet (see {@linkcode restore}). */
  #legacy: AlphaState | null = null;

  /**
   * @param rule How α is chosen (each class's controller follows it on its own history).
   * @param visitsPerClass Planned visits of one class (sets the rules' window).
   * @throws {RangeError} As {@linkcode AlphaController}: a bad rule or visit count.
   */
  constructor(rule: AlphaRule, visitsPerClass: number) {
    new AlphaController(rule, visitsPerClass); // checks both up front
    this.#rule = rule;
    this.#visitsPerClass = visitsPerClass;
  }

  /**
   * Counts a visit of `cls` and returns the α of each of its micro-batches.
   *
   * @param cls The batch's class ({@linkcode batchClass}).
   * @param schedule How the two losses are combined.
   * @param alternate How `alternating` alternates.
   * @returns One α per micro-batch ({@linkcode visitAlphas}).
   */
  next(cls: string, schedule: LossSchedule, alternate: Alternation): number[] {
    const visit = (this.#visits.get(cls) ?? 0) + 1;
    this.#visits.set(cls, visit);
    return visitAlphas(schedule, alternate, visit, this.#controller(cls).alpha(visit));
  }

  /** Records the CE and KD a visit of `cls` measured (its controller's history). */
  observe(cls: string, ce: number, kd: number): void {
    this.#controller(cls).observe(ce, kd);
  }

  /** Every class's histories and visit count, as plain JSON-safe values. */
  state(): ClassAlphaState {
    const classes: Record<string, ClassAlphaEntry> = {};
    for (const [cls, c] of this.#controllers) {
      classes[cls] = { ...c.state(), visits: this.#visits.get(cls) ?? 0 };
    }
    return { classes };
  }

  /**
   * Resumes from {@linkcode state}'s output. The state of a run saved before per-class
   * controllers (one shared `{ce, kd}` history) seeds every class's history, with visits
   * counted afresh.
   *
   * @throws {RangeError} When it is neither: a class entry without finite histories of equal
   *   length or without a visit count ≥ 0.
   */
  restore(saved: unknown): void {
    this.#controllers.clear();
    this.#visits.clear();
    this.#legacy = null;
    const s = (typeof saved === "object" && saved !== null ? saved : {}) as Record<string, unknown>;
    if (!("classes" in s)) {
      // One shared history: every class starts from it.
      const shared = this.#make();
      shared.restore(saved as AlphaState);
      this.#legacy = shared.state();
      return;
    }
    const classes = s.classes;
    if (typeof classes !== "object" || classes === null) {
      throw new RangeError("Cannot restore the α state: its classes are not an object");
    }
    for (const [cls, entry] of Object.entries(classes as Record<string, unknown>)) {
      const e = (typeof entry === "object" && entry !== null ? entry : {}) as Partial<
        ClassAlphaEntry
      >;
      if (!(Number.isInteger(e.visits) && e.visits! >= 0)) {
        throw new RangeError(
          `Cannot restore the α state of class "${cls}": visits ${e.visits} is not an integer ≥ 0`,
        );
      }
      const c = this.#make();
      c.restore({ ce: e.ce!, kd: e.kd! });
      this.#controllers.set(cls, c);
      this.#visits.set(cls, e.visits!);
    }
  }

  #make(): AlphaController {
    return new AlphaController(this.#rule, this.#visitsPerClass);
  }

  #controller(cls: string): AlphaController {
    let c = this.#controllers.get(cls);
    if (!c) {
      c = this.#make();
      if (this.#legacy) c.restore(this.#legacy);
      this.#controllers.set(cls, c);
    }
    return c;
  }
}

/** What one micro-batch (or the one fused step) of a distillation step measured. */
export interface MicroStep {
  /** Its objective `α·CE + (1 − α)·KD`. */
  loss: number;
  ce: number;
  kd: number;
  /** The gradient norm, when this run also updated the parameters (the fused step). */
  gradNorm: number;
}

/** A distillation step's outcome: the logged values and the one α controller's input. */
export interface DistilledStep {
  /** Mean of the micro-batches' objectives: the objective whose gradient was applied. */
  loss: number;
  gradNorm: number;
  /** The step's weight of CE: the mean α over its micro-batches. */
  alpha: number;
  /** CE of the micro-batches that trained on it (α > 0); of all when none did. */
  ce: number;
  /** KD of the micro-batches that trained on it (α < 1); of all when none did. */
  kd: number;
}

/**
 * Runs a step's micro-batches in order and combines what they measured. With micro-batch
 * alternation (`[1, 0]`) the logged CE is the first half's and KD the second's — the terms the
 * step trained on — so `loss = ½·ce + ½·kd` holds exactly, as `α·ce + (1 − α)·kd` does for a
 * combined step.
 *
 * @param alphas One α per micro-batch ({@linkcode visitAlphas}).
 * @param run Runs micro-batch `i` at `alpha` (accumulating its gradient, or the fused step).
 * @param apply Applies the accumulated gradient and returns its norm; null for a fused step.
 * @returns The step's loss, gradient norm, α, CE and KD.
 * @example
 * ```ts
 * import { runMicroBatches } from "./alternation.ts";
 * const s = await runMicroBatches(
 *   [1, 0],
 *   (i) => Promise.resolve(i === 0 ? { loss: 3, ce: 3, kd: 9, gradNorm: NaN } : { loss: 1, ce: 4, kd: 1, gradNorm: NaN }),
 *   () => Promise.resolve(0.5),
 * );
 * console.assert(s.loss === 2 && s.ce === 3 && s.kd === 1 && s.alpha === 0.5 && s.gradNorm === 0.5);
 * ```
 */
export async function runMicroBatches(
  alphas: readonly number[],
  run: (i: number, alpha: number) => Promise<MicroStep>,
  apply: (() => Promise<number>) | null,
): Promise<DistilledStep> {
  const done: MicroStep[] = [];
  for (const [i, alpha] of alphas.entries()) done.push(await run(i, alpha));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const of = (key: "ce" | "kd", trained: (alpha: number) => boolean) => {
    const picked = done.filter((_, i) => trained(alphas[i]!));
    return mean((picked.length > 0 ? picked : done).map((d) => d[key]));
  };
  return {
    loss: mean(done.map((d) => d.loss)),
    gradNorm: apply ? await apply() : done[0]!.gradNorm,
    alpha: mean([...alphas]),
    ce: of("ce", (a) => a > 0),
    kd: of("kd", (a) => a < 1),
  };
}

/**
 * One distillation step on the backend: each micro-batch through the first graph (the fused step
 * when there is one graph; gradient accumulation when an apply graph follows), then the update.
 * The student and the MoE runners both step this way; only their feeds differ.
 *
 * @param steps `[fused]` or `[accumulate, apply]` (the training graphs of the runner).
 * @param alphas One α per micro-batch ({@linkcode visitAlphas}).
 * @param feeds The inputs of micro-batch `i` at `alpha` (tokens, targets, α, teacher signal).
 * @param lr The step's learning rate.
 * @param step The step number (AdamW's bias correction).
 * @returns What {@linkcode runMicroBatches} returns.
 */
export function runDistillationStep(
  steps: readonly Pick<TrainingStep, "run">[],
  alphas: readonly number[],
  feeds: (i: number, alpha: number) => Promise<Record<string, HostTensor | number>>,
  lr: number,
  step: number,
): Promise<DistilledStep> {
  const [first, apply] = steps;
  return runMicroBatches(alphas, async (i, alpha): Promise<MicroStep> => {
    const extra = apply ? {} : { lr, step }; // the fused step updates in the same run
    const r = await first!.run({ ...(await feeds(i, alpha)), ...extra });
    return {
      loss: r.loss,
      ce: Number(r.outputs.ce!.data[0]),
      kd: Number(r.outputs.kd!.data[0]),
      gradNorm: Number(r.outputs.grad_norm?.data[0] ?? NaN),
    };
  }, apply ? async () => (await apply.run({ lr, step })).loss : null);
}
