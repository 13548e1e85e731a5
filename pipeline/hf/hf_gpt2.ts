/**
 * Hugging Face GPT-2 layout of a trained model: tensor names of `transformers`'
 * `GPT2LMHeadModel` and its `config.json`. Our linear weights are `[in, out]` (used as `x · W`),
 * which is exactly the layout of GPT-2's `Conv1D` weights, so no tensor is transposed; the LM head
 * is tied to `wte`, so `lm_head.weight` is left out as `transformers` expects of tied models.
 *
 * @module
 */
import type { HostTensor } from "../../core/runtime/mod.ts";
import { type GPTConfig, gptParamSpecs } from "../../models/gpt.ts";

/**
 * The Hugging Face name of one of our parameters.
 *
 * @param name Our parameter name (`h3.attn.qkv.w`, `lnf.scale`, …).
 * @returns The `GPT2LMHeadModel` state-dict key.
 * @throws {RangeError} If the name is not a GPT-2 parameter.
 *
 * @example
 * ```ts
 * import { hfGpt2Name } from "./hf_gpt2.ts";
 * console.assert(hfGpt2Name("h3.attn.qkv.w") === "transformer.h.3.attn.c_attn.weight");
 * console.assert(hfGpt2Name("lnf.scale") === "transformer.ln_f.weight");
 * ```
 */
export function hfGpt2Name(name: string): string {
  if (name === "wte" || name === "wpe") return `transformer.${name}.weight`;
  if (name === "lm_head") return "lm_head.weight";
  const leaf = (s: string) => ({ w: "weight", scale: "weight", b: "bias", bias: "bias" })[s];
  const lnf = /^lnf\.(scale|bias)$/.exec(name);
  if (lnf) return `transformer.ln_f.${leaf(lnf[1]!)}`;
  const m = /^h(\d+)\.(ln1|ln2|attn\.qkv|attn\.proj|mlp\.fc|mlp\.proj)\.(w|b|scale|bias)$/.exec(
    name,
  );
  if (!m) {
    throw new RangeError(`Cannot name "${name}" in the Hugging Face layout: not a GPT-2 parameter`);
  }
  const part = {
    ln1: "ln_1",
    ln2: "ln_2",
    "attn.qkv": "attn.c_attn",
    "attn.proj": "attn.c_proj",
    "mlp.fc": "mlp.c_fc",
    "mlp.proj": "mlp.c_proj",
  }[m[2]!]!;
  return `transformer.h.${m[1]}.${part}.${leaf(m[3]!)}`;
}

/**
 * The inverse of {@linkcode hfGpt2Name} for a model of shape `cfg`: our parameter name of each
 * `GPT2LMHeadModel` state-dict key (built from the one forward mapping, so the two cannot drift).
 *
 * @param cfg The model.
 * @returns Our name by Hugging Face name, in our parameter order.
 *
 * @example
 * ```ts
 * import { hfGpt2Names } from "./hf_gpt2.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * const names = hfGpt2Names(GPT_CONFIGS.tiny);
 * console.assert(names.get("transformer.h.1.mlp.c_fc.bias") === "h1.mlp.fc.b");
 * ```
 */
export function hfGpt2Names(cfg: GPTConfig): Map<string, string> {
  return new Map(gptParamSpecs(cfg).map((spec) => [hfGpt2Name(spec.name), spec.name]));
}

/**
 * Our parameters renamed to the Hugging Face layout (optimizer state and anything else dropped).
 *
 * @param cfg The model.
 * @param state Training state by graph input name.
 * @returns Tensors by Hugging Face name.
 * @throws {RangeError} If a parameter is missing or has the wrong size.
 */
export function toHfGpt2(
  cfg: GPTConfig,
  state: Readonly<Record<string, HostTensor>>,
): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const spec of gptParamSpecs(cfg)) {
    const t = state[spec.name];
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!t || t.dtype !== "float32" || t.data.length !== size) {
      throw new RangeError(
        `Cannot export parameter "${spec.name}": expected float32[${spec.shape.join(", ")}]`,
      );
    }
    out[hfGpt2Name(spec.name)] = { dtype: "float32", dims: spec.shape, data: t.data };
  }
  return out;
}

/**
 * The `config.json` of `transformers`' GPT-2 for our model; its three dropout probabilities are
 * the model's training dropout (GPT-2 uses one rate for all three, as we do).
 *
 * @param cfg The model.
 * @param eotId The `<|endoftext|>` id (GPT-2's bos and eos).
 * @returns The JSON object.
 *
 * @example
 * ```ts
 * import { hfGpt2Config } from "./hf_gpt2.ts";
 * import { GPT_CONFIGS } from "../../models/gpt.ts";
 * const c = hfGpt2Config(GPT_CONFIGS["gpt2-small"], 50256);
 * console.assert(c.n_embd === 768 && c.activation_function === "gelu_new");
 * ```
 */
export function hfGpt2Config(cfg: GPTConfig, eotId: number) {
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: cfg.vocabSize,
    n_positions: cfg.contextLength,
    n_ctx: cfg.contextLength,
    n_embd: cfg.dModel,
    n_layer: cfg.layers,
    n_head: cfg.heads,
    n_inner: null,
    activation_function: cfg.activation ?? "gelu_new",
    layer_norm_epsilon: cfg.layerNormEps,
    resid_pdrop: cfg.dropout ?? 0,
    embd_pdrop: cfg.dropout ?? 0,
    attn_pdrop: cfg.dropout ?? 0,
    initializer_range: 0.02,
    bos_token_id: eotId,
    eos_token_id: eotId,
    tie_word_embeddings: cfg.head !== "untied",
    torch_dtype: "float32",
  };
}
