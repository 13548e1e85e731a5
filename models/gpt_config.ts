/**
 * GPT-2 configurations: the type, the named presets, and parameter initialization.
 *
 * @module
 */

/** Shape of a GPT-2 model. Defaults are GPT-2 small (124 M parameters). */
export interface GPTConfig {
  /** Token vocabulary size (GPT-2: 50 257; the project tokenizer: 32 000). */
  vocabSize: number;
  /** Maximum sequence length = rows of the learned position table. */
  contextLength: number;
  /** Transformer blocks. */
  layers: number;
  /** Attention heads; must divide `dModel`. */
  heads: number;
  /** Residual stream width C. */
  dModel: number;
  /** LayerNorm ε (GPT-2 uses 1e-5). */
  layerNormEps: number;
  /** Whether AdamW decays the token/position embeddings (nanoGPT decays every 2-D tensor). */
  decayEmbeddings: boolean;
  /**
   * Drop probability of training graphs, where GPT-2 drops: the embedding sum, the attention
   * probabilities, and the attention and MLP outputs before each residual add (absent or 0: no
   * dropout). Inference and evaluation graphs never drop.
   */
  dropout?: number;
  /**
   * The MLP's GELU: `gelu_new` (absent: this one), GPT-2's tanh approximation, or `gelu`, the
   * exact `0.5·x·(1 + erf(x/√2))` — Hugging Face's `activation_function` names.
   */
  activation?: "gelu_new" | "gelu";
  /**
   * `untied`: the LM head is its own `lm_head` parameter `[V, C]` (Hugging Face checkpoints with
   * `tie_word_embeddings: false`); absent or `tied`: the head is `wte`, as in GPT-2.
   */
  head?: "tied" | "untied";
}

/** GPT-2 small, the default. */
export const GPT2_SMALL: GPTConfig = {
  vocabSize: 50257,
  contextLength: 1024,
  layers: 12,
  heads: 12,
  dModel: 768,
  layerNormEps: 1e-5,
  decayEmbeddings: true,
};

/** The paper's vocabulary (arXiv 2407.19610: a retrained 32 000-token tokenizer). */
const PAPER_VOCAB = 32000;

/**
 * Named presets: `tiny` for tests, `bench` for the engine benchmark, two GPT-2 sizes, and the
 * paper's (arXiv 2407.19610), all at context 1024 and vocabulary 32 000 (a run takes its shards'
 * vocabulary): its teacher, GPT-2 medium; its single-language students, 6 and 3 layers of
 * d 768 with 12 heads; its JEET / MoE-CE experts, 3 layers of d 768 with 6 heads. `moe bench
 * paper-sizes` runs each.
 */
export const GPT_CONFIGS: Readonly<
  Record<
    | "tiny"
    | "bench"
    | "gpt2-small"
    | "gpt2-medium"
    | "paper-teacher"
    | "paper-student-6l"
    | "paper-student-3l"
    | "paper-expert",
    GPTConfig
  >
> = {
  tiny: { ...GPT2_SMALL, vocabSize: 256, contextLength: 64, layers: 2, heads: 2, dModel: 64 },
  bench: { ...GPT2_SMALL, vocabSize: 8192, contextLength: 128, layers: 4, heads: 4, dModel: 256 },
  "gpt2-small": GPT2_SMALL,
  "gpt2-medium": { ...GPT2_SMALL, layers: 24, heads: 16, dModel: 1024 },
  "paper-teacher": { ...GPT2_SMALL, vocabSize: PAPER_VOCAB, layers: 24, heads: 16, dModel: 1024 },
  "paper-student-6l": { ...GPT2_SMALL, vocabSize: PAPER_VOCAB, layers: 6 },
  "paper-student-3l": { ...GPT2_SMALL, vocabSize: PAPER_VOCAB, layers: 3 },
  "paper-expert": { ...GPT2_SMALL, vocabSize: PAPER_VOCAB, layers: 3, heads: 6 },
};

/**
 * A complete config from a partial one (missing fields from GPT-2 small).
 *
 * @throws {RangeError} If `heads` does not divide `dModel` or `dropout` is outside [0, 1).
 *
 * @example
 * ```ts
 * import { gptConfig } from "./gpt_config.ts";
 * console.assert(gptConfig({ dropout: 0.1 }).dropout === 0.1 && gptConfig().dropout === undefined);
 * ```
 */
export function gptConfig(partial: Partial<GPTConfig> = {}): GPTConfig {
  const cfg = { ...GPT2_SMALL, ...partial };
  if (cfg.dModel % cfg.heads !== 0) {
    throw new RangeError(
      `Invalid GPT config: dModel ${cfg.dModel} is not divisible by heads ${cfg.heads}`,
    );
  }
  if (cfg.dropout !== undefined && !(cfg.dropout >= 0 && cfg.dropout < 1)) {
    throw new RangeError(`Invalid GPT config: dropout ${cfg.dropout} is outside [0, 1)`);
  }
  return cfg;
}

/** Parameter name, shape and how it is initialized. */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: "normal" | "residual" | "zeros" | "ones";
  decay: boolean;
}

/** Every parameter of the model in a fixed order (weights are `[in, out]`, used as `x · W`). */
export function gptParamSpecs(cfg: GPTConfig): ParamSpec[] {
  const C = cfg.dModel;
  const specs: ParamSpec[] = [
    { name: "wte", shape: [cfg.vocabSize, C], init: "normal", decay: cfg.decayEmbeddings },
    { name: "wpe", shape: [cfg.contextLength, C], init: "normal", decay: cfg.decayEmbeddings },
  ];
  const ln = (p: string): ParamSpec[] => [
    { name: `${p}.scale`, shape: [C], init: "ones", decay: false },
    { name: `${p}.bias`, shape: [C], init: "zeros", decay: false },
  ];
  const linear = (p: string, i: number, o: number, residual = false): ParamSpec[] => [
    { name: `${p}.w`, shape: [i, o], init: residual ? "residual" : "normal", decay: true },
    { name: `${p}.b`, shape: [o], init: "zeros", decay: false },
  ];
  for (let l = 0; l < cfg.layers; l++) {
    specs.push(
      ...ln(`h${l}.ln1`),
      ...linear(`h${l}.attn.qkv`, C, 3 * C),
      ...linear(`h${l}.attn.proj`, C, C, true),
      ...ln(`h${l}.ln2`),
      ...linear(`h${l}.mlp.fc`, C, 4 * C),
      ...linear(`h${l}.mlp.proj`, 4 * C, C, true),
    );
  }
  specs.push(...ln("lnf"));
  // Stored `[V, C]` like `wte` (and like Hugging Face's `nn.Linear` weight), used as `x · Wᵀ`.
  if (cfg.head === "untied") {
    specs.push({ name: "lm_head", shape: [cfg.vocabSize, C], init: "normal", decay: true });
  }
  return specs;
}

/**
 * GPT-2 initialization: N(0, 0.02) weights, residual projections N(0, 0.02/√(2·layers)) (GPT-2
 * paper §2.3), zero biases, unit LayerNorm scales. Seeded and deterministic.
 *
 * @example
 * ```ts
 * import { GPT_CONFIGS, initGPT } from "./gpt_config.ts";
 * const p = initGPT(GPT_CONFIGS.tiny, 1);
 * console.assert(p.get("wte")!.length === 256 * 64 && p.get("lnf.scale")![0] === 1);
 * ```
 */
export function initGPT(cfg: GPTConfig, seed: number): Map<string, Float32Array> {
  const normal = normalSource(seed);
  const out = new Map<string, Float32Array>();
  for (const p of gptParamSpecs(cfg)) {
    const v = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.init === "ones") v.fill(1);
    if (p.init === "normal" || p.init === "residual") {
      normal(v, p.init === "normal" ? 0.02 : 0.02 / Math.sqrt(2 * cfg.layers));
    }
    out.set(p.name, v);
  }
  return out;
}

/**
 * A seeded N(0, std²) filler: Marsaglia's polar method over a mulberry32 stream, both normals of
 * each accepted pair used (no trigonometry; GPT-2 medium's 355 M values take seconds, not tens).
 */
function normalSource(seed: number): (out: Float32Array, std: number) => void {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (out, std) => {
    for (let i = 0; i < out.length;) {
      const a = 2 * uniform() - 1, b = 2 * uniform() - 1, r = a * a + b * b;
      if (r >= 1 || r === 0) continue;
      const k = std * Math.sqrt((-2 * Math.log(r)) / r);
      out[i++] = a * k;
      if (i < out.length) out[i++] = b * k;
    }
  };
}
