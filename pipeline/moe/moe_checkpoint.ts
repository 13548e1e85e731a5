/**
 * The checkpoint of a `moe train-moe` run: the `moe train` layout (`OUT/latest` →
 * `step-NNNNNN/` with `config.json`, `tokenizer.json`, `state.safetensors`, `model.onnx`) with
 * format `moe-mixture`. `config.json` adds the MoE's classes and variant; `state.safetensors`
 * holds every stack, the shared `wte` — also the LM head, unless `moe.model.head` is `untied` and
 * the shared `lm_head` is saved beside it — and the AdamW moments; `model.onnx` is the whole MoE with a `weights` input over the classes.
 *
 * @module
 */
import type { CheckpointConfig } from "../training/mod.ts";
import type { DistillSettings } from "../distill/mod.ts";
import type { MoEConfig } from "../../models/moe.ts";

/** The `format` of a MoE checkpoint's config.json. */
export const MOE_CHECKPOINT_FORMAT = "moe-mixture";

/** `config.json` of a MoE checkpoint (`model` is the shape every stack shares). */
export interface MoECheckpointConfig extends CheckpointConfig {
  format: typeof MOE_CHECKPOINT_FORMAT;
  moe: MoEConfig;
  /** The teacher and loss settings when the MoE was distilled. */
  distill?: MoEDistill;
}

/** A MoE run's teacher and loss settings (saved in its checkpoints as `distill`). */
export interface MoEDistill extends DistillSettings {
  /** The teacher's run or checkpoint directory. */
  teacher: string;
}
