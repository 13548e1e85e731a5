/**
 * The weight α of the distillation objective `L = α·CE + (1 − α)·KD`: fixed, the adaptive rule of
 * arXiv 2407.19610 (`paper`, reproduced faithfully, defect included), and a rule that balances
 * the losses' rates of decrease (`dwa`). Which α each step trains with, one controller per class
 * and the alternating schedule, is `alternation.ts`.
 *
 * @module
 */
import { InvalidRequest } from "../../core/job/mod.ts";

/** How α is chosen each step. */
export type AlphaRule =
  | { kind: "fixed"; alpha: number }
  | { kind: "paper" }
  | { kind: "dwa"; temperature: number };

/**
 * How the two losses are combined over steps: `combined` trains `α·CE + (1 − α)·KD` every step;
 * `alternating` trains CE alone and KD alone in turn (per class visit or per micro-batch, see
 * `alternation.ts`).
 */
export type LossSchedule = "combined" | "alternating";

/** The α controller's resumable state: the recent loss histories (JSON-serializable). */
export interface AlphaState {
  ce: number[];
  kd: number[];
}

/** Softmax temperature of the `dwa` rule over log-rates (see {@link dwaAlpha}). */
export const DWA_TEMPERATURE = 0.1;
/** α of the `dwa` rule stays within [DWA_MIN, 1 − DWA_MIN], so neither loss is ever dropped. */
export const DWA_MIN = 0.05;

/**
 * The window k of the adaptive rules: `max(20, ⌊steps / 100⌋)` (arXiv 2407.19610).
 *
 * @example
 * ```ts
 * import { alphaWindow } from "./alpha_schedule.ts";
 * console.assert(alphaWindow(1000) === 20 && alphaWindow(50_000) === 500);
 * ```
 */
export function alphaWindow(totalSteps: number): number {
  return Math.max(20, Math.floor(totalSteps / 100));
}

/** `w(H) = 1 − clip((H[−1] − H[−k]) / mean(H[−k:]), 0, 1)` on the last k entries. */
function paperWeight(h: readonly number[], k: number): number {
  const w = h.slice(-k);
  const mean = w.reduce((a, b) => a + b, 0) / k;
  const change = w[k - 1]! - w[0]!;
  const rel = mean !== 0 ? change / mean : 0; // a zero mean means a flat, all-zero history
  return 1 - Math.min(Math.max(rel, 0), 1);
}

/**
 * The paper's adaptive α, exactly: with `w(H) = 1 − clip((H[−1] − H[−k]) / mean(H[−k:]), 0, 1)`,
 * `α = w_CE / (w_CE + w_KD)`; 0.5 before k observations.
 *
 * Its defect, kept on purpose (issue #7): a falling loss has a negative change, clipped to 0, so
 * its weight is 1 — **whenever both losses fall, α is exactly ½**, which is most of training. It
 * only moves when a loss rises, and then it gives the rising loss *less* weight. When both rise by
 * ≥ 100 % of their window mean both weights are 0 and the formula is 0/0; this implementation
 * returns 0.5 there (the guard).
 *
 * @param ce Cross-entropy history, oldest first (only the last k entries are read).
 * @param kd KD-loss history, same length.
 * @param k Window ({@link alphaWindow}).
 * @returns α in [0, 1].
 * @example
 * ```ts
 * import { paperAlpha } from "./alpha_schedule.ts";
 * const falling = (rate: number) => Array.from({ length: 20 }, (_, i) => 5 - rate * i);
 * console.assert(paperAlpha(falling(0.01), falling(0.2), 20) === 0.5);
 * ```
 */
export function paperAlpha(ce: readonly number[], kd: readonly number[], k: number): number {
  if (ce.length < k || kd.length < k) return 0.5;
  const wCE = paperWeight(ce, k), wKD = paperWeight(kd, k);
  return wCE + wKD > 0 ? wCE / (wCE + wKD) : 0.5;
}

/** ln(mean of the last half of the window / mean of its first half), 0 for a degenerate one. */
function logRate(h: readonly number[], k: number): number {
  const half = Math.floor(k / 2), w = h.slice(-k);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const older = mean(w.slice(0, half)), recent = mean(w.slice(-half));
  // Losses are ≥ 0; a float32 KD can round to 0 or just below, where the ratio means nothing.
  return older > 0 && recent > 0 ? Math.log(recent / older) : 0;
}

/**
 * The `dwa` rule: α from the two losses' relative rates of change over the window, in the manner
 * of Dynamic Weight Average (Liu, Johns & Davison, "End-to-End Multi-Task Learning with
 * Attention", CVPR 2019). With `ρ(H) = ln(mean(second half of H[−k:]) / mean(first half))`,
 * the log-rate of change (negative while a loss falls),
 *
 * `α = clip(σ((ρ_CE − ρ_KD) / T), 0.05, 0.95)` — a two-way softmax of the rates, T = 0.1.
 *
 * Why: the loss that is improving more slowly (or worsening) gets more weight, so both keep
 * moving; when both fall at the same relative rate α = ½. Unlike {@link paperAlpha} it responds
 * while both losses fall, which is the normal state of training. Log-ratios make it independent
 * of the losses' scales (CE in nats, KD times τ²); half-window means smooth the per-batch noise;
 * the clip keeps either loss from being switched off. 0.5 before k observations.
 *
 * @param ce Cross-entropy history, oldest first (only the last k entries are read).
 * @param kd KD-loss history, same length.
 * @param k Window ({@link alphaWindow}), at least 2.
 * @param temperature T > 0: smaller reacts more strongly to a difference of rates.
 * @returns α in [0.05, 0.95].
 * @example
 * ```ts
 * import { dwaAlpha } from "./alpha_schedule.ts";
 * const falling = (rate: number) => Array.from({ length: 20 }, (_, i) => 5 * (1 - rate) ** i);
 * // CE falls slowly, KD fast: CE gets more weight.
 * console.assert(dwaAlpha(falling(0.001), falling(0.02), 20) > 0.8);
 * ```
 */
export function dwaAlpha(
  ce: readonly number[],
  kd: readonly number[],
  k: number,
  temperature = DWA_TEMPERATURE,
): number {
  if (ce.length < k || kd.length < k) return 0.5;
  const z = (logRate(ce, k) - logRate(kd, k)) / temperature;
  const a = 1 / (1 + Math.exp(-z));
  return Math.min(Math.max(a, DWA_MIN), 1 - DWA_MIN);
}

/**
 * Chooses α step by step from the observed losses; its state resumes with a checkpoint.
 *
 * @example
 * ```ts
 * import { AlphaController } from "./alpha_schedule.ts";
 * const c = new AlphaController({ kind: "dwa", temperature: 0.1 }, 1000);
 * for (let step = 1; step <= 40; step++) {
 *   const alpha = c.alpha(step); // feed it to the step graph…
 *   c.observe(5 - 0.01 * step, 3 - 0.05 * step); // …then report the step's CE and KD
 * }
 * console.assert(c.alpha(41) > 0.5); // CE falls more slowly, so it weighs more
 * ```
 */
export class AlphaController {
  /** The window k of the adaptive rules. */
  readonly window: number;
  #ce: number[] = [];
  #kd: number[] = [];

  /**
   * @param rule How α is chosen.
   * @param totalSteps Planned steps of the run (sets the window).
   * @throws {RangeError} When `totalSteps` is not a positive integer, a fixed α is outside
   *   [0, 1] or the `dwa` temperature is not positive.
   */
  constructor(readonly rule: AlphaRule, totalSteps: number) {
    if (!Number.isInteger(totalSteps) || totalSteps < 1) {
      throw new RangeError(`Cannot schedule α: total steps ${totalSteps} must be an integer ≥ 1`);
    }
    if (rule.kind === "fixed" && !(rule.alpha >= 0 && rule.alpha <= 1)) {
      throw new RangeError(`Cannot use α = ${rule.alpha}: it must lie in [0, 1]`);
    }
    if (rule.kind === "dwa" && !(rule.temperature > 0 && Number.isFinite(rule.temperature))) {
      throw new RangeError(`Cannot use dwa temperature ${rule.temperature}: it must be > 0`);
    }
    this.window = alphaWindow(totalSteps);
  }

  /**
   * α for a step, from the losses observed before it.
   *
   * @param step 1-based step number.
   * @returns α in [0, 1], never NaN.
   * @throws {RangeError} When `step` is not an integer ≥ 1.
   */
  alpha(step: number): number {
    if (!Number.isInteger(step) || step < 1) {
      throw new RangeError(`Cannot give α for step ${step}: steps are integers from 1`);
    }
    const r = this.rule;
    if (r.kind === "fixed") return r.alpha;
    if (r.kind === "paper") return paperAlpha(this.#ce, this.#kd, this.window);
    return dwaAlpha(this.#ce, this.#kd, this.window, r.temperature);
  }

  /**
   * Records one step's CE and KD values. A pair with a non-finite value is skipped (a diverged
   * step says nothing about rates, and would make every later α NaN).
   */
  observe(ce: number, kd: number): void {
    if (!Number.isFinite(ce) || !Number.isFinite(kd)) return;
    this.#ce.push(ce);
    this.#kd.push(kd);
    if (this.#ce.length > this.window) {
      this.#ce.shift();
      this.#kd.shift();
    }
  }

  /** The histories the rules read (the last `window` pairs), as plain JSON-safe arrays. */
  state(): AlphaState {
    return { ce: [...this.#ce], kd: [...this.#kd] };
  }

  /**
   * Resumes from {@link state}'s output (also across a change of rule or of total steps).
   *
   * @throws {RangeError} When it is not such an object: histories missing, of different lengths,
   *   or holding a non-finite value.
   */
  restore(s: AlphaState): void {
    const ok = (h: unknown): h is number[] =>
      Array.isArray(h) && h.every((v) => typeof v === "number" && Number.isFinite(v));
    // Checked as untrusted: it comes back from a checkpoint's JSON.
    const { ce, kd } = (typeof s === "object" && s !== null ? s : {}) as Partial<AlphaState>;
    if (!ok(ce) || !ok(kd) || ce.length !== kd.length) {
      throw new RangeError(
        "Cannot restore the α state: ce and kd must be arrays of finite numbers of equal length",
      );
    }
    this.#ce = ce.slice(-this.window);
    this.#kd = kd.slice(-this.window);
  }
}

/**
 * Parses `--alpha`: a number in [0, 1] (fixed), `adaptive` (the paper's rule; `paper` is
 * accepted too) or `dwa` (rate balancing, T = {@link DWA_TEMPERATURE}).
 *
 * @throws {InvalidRequest} For anything else (option `alpha`), naming the accepted values.
 * @example
 * ```ts
 * import { parseAlpha } from "./alpha_schedule.ts";
 * console.assert(parseAlpha("0.25").kind === "fixed");
 * console.assert(parseAlpha("adaptive").kind === "paper");
 * ```
 */
export function parseAlpha(text: string): AlphaRule {
  const t = text.trim().toLowerCase();
  if (t === "adaptive" || t === "paper") return { kind: "paper" };
  if (t === "dwa") return { kind: "dwa", temperature: DWA_TEMPERATURE };
  const x = /^(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/.test(t) ? Number(t) : NaN;
  if (x >= 0 && x <= 1) return { kind: "fixed", alpha: x };
  throw new InvalidRequest(
    (s) =>
      `Invalid ${
        s.option("alpha")
      } "${text}": expected a number in [0, 1], "adaptive" (the paper's rule) or "dwa" (rate balancing)`,
    { option: "alpha" },
  );
}

/**
 * Parses `--schedule`: `combined` or `alternating`.
 *
 * @throws {InvalidRequest} For anything else (option `lossSchedule`), naming the accepted values.
 * @example
 * ```ts
 * import { parseSchedule } from "./alpha_schedule.ts";
 * console.assert(parseSchedule("alternating") === "alternating");
 * ```
 */
export function parseSchedule(text: string): LossSchedule {
  const t = text.trim().toLowerCase();
  if (t === "combined" || t === "alternating") return t;
  throw new InvalidRequest(
    (s) => `Invalid ${s.option("lossSchedule")} "${text}": expected "combined" or "alternating"`,
    { option: "lossSchedule" },
  );
}
