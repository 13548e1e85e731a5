/**
 * The distillation options of `moe distill`, `moe train-moe --teacher` and `moe experiment
 * moe-variants`: KD direction, temperature, α, loss schedule, alternation and KD scaling — one
 * definition, so the commands cannot drift apart.
 *
 * @module
 */
import { type Command, Option } from "commander";
import {
  type Alternation,
  ALTERNATIONS,
  type DistillSettings,
  type LossSchedule,
  parseAlpha,
} from "../pipeline/distill/mod.ts";
import { KD_SCALES, type KDScale } from "../core/losses/mod.ts";
import { numberIn } from "./_option_values.ts";

/** The flags {@linkcode addDistillOptions} declares. */
export interface DistillFlags {
  teacher?: string;
  kd: DistillSettings["kd"];
  temperature: number;
  alpha: string;
  schedule: LossSchedule;
  alternate: Alternation;
  kdScale: KDScale;
}

/** Declares the distillation options (`moe distill`, `moe train-moe --teacher`). */
export function addDistillOptions(cmd: Command, teacherHelp: string): Command {
  return cmd
    .option("--teacher <RUN>", teacherHelp)
    .addOption(
      new Option(
        "--kd <DIR>",
        "forward: KL(p_T‖q_S), mean-seeking; reverse: KL(q_S‖p_T), mode-seeking",
      ).choices(["forward", "reverse"]).default("forward"),
    )
    .option(
      "--temperature <T>",
      "softmax temperature of both distributions",
      numberIn(0.05, 100),
      2,
    )
    .option(
      "--alpha <X|RULE>",
      "weight of CE in α·CE + (1−α)·KD: a number in [0, 1], adaptive (the paper's rule) or dwa (ours: balances the losses' rates)",
      "0.5",
    )
    .addOption(
      new Option(
        "--schedule <KIND>",
        "combined: α·CE + (1−α)·KD each step; alternating: CE alone and KD alone in turn (--alternate)",
      ).choices(["combined", "alternating"]).default("combined"),
    )
    .addOption(
      new Option(
        "--alternate <HOW>",
        "how alternating alternates: step (each class CE, KD, CE, … on its own steps) or micro-batch (CE on one half of every step, KD on the other, as the paper's code)",
      ).choices(ALTERNATIONS).default("step"),
    )
    .addOption(
      new Option(
        "--kd-scale <HOW>",
        "tau2: KD term × τ² (Hinton et al.); none: the plain KL at τ (the paper's code, at τ 1)",
      ).choices(KD_SCALES).default("tau2"),
    );
}

/**
 * The loss settings of the distillation flags.
 *
 * @param flags The parsed flags of {@linkcode addDistillOptions}.
 * @returns The settings the distillation loop takes (`--alpha` parsed).
 * @throws {InvalidRequest} On an `--alpha` that is neither a number in [0, 1] nor a rule.
 *
 * @example
 * ```ts
 * import { distillSettings } from "./_distill_options.ts";
 * const d = distillSettings({
 *   kd: "forward", temperature: 2, alpha: "0.5", schedule: "combined", alternate: "step",
 *   kdScale: "tau2",
 * });
 * console.assert(d.temperature === 2 && d.lossSchedule === "combined");
 * ```
 */
export function distillSettings(flags: DistillFlags): DistillSettings {
  return {
    kd: flags.kd,
    temperature: flags.temperature,
    alpha: parseAlpha(flags.alpha),
    lossSchedule: flags.schedule,
    alternate: flags.alternate,
    kdScale: flags.kdScale,
  };
}
