/**
 * `moe generate MODEL "prompt"`: continue a prompt with a trained model, streaming the text to
 * stdout as it is generated (KV-cache decoding on cpu, wasm or webgpu).
 *
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "./_errors.ts";
import {
  generate,
  type GenerateResult,
  type OpenedModel,
  openModel,
  type SamplingOptions,
  TokenTextStream,
} from "../pipeline/generate/mod.ts";
import { GENERATE_MIX_MODES, type GenerateMixMode } from "../pipeline/moe/mod.ts";
import { ROUTE_RULES, type RouteRule } from "../core/routing/mod.ts";
import type { Backend } from "../core/runtime/mod.ts";
import {
  action,
  BACKEND_HELP,
  type GlobalOptions,
  openCommandBackend,
  printJson,
  standardCommand,
  THREADS_HELP,
} from "./_run.ts";
import { integerIn, numberIn } from "./_option_values.ts";

interface GenerateFlags extends GlobalOptions {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed?: number;
  backend?: string;
  threads?: string;
  cache: boolean;
  expert?: string;
  fallback?: string;
  mix: GenerateMixMode;
  route: RouteRule;
}

/** The `generate` command. */
export function generateCommand(): Command {
  return standardCommand("generate", "Continue a prompt with a trained model (KV-cache decoding)")
    .argument(
      "<MODEL>",
      "a moe train/distill run or step-N directory, a Hugging Face GPT-2 folder, or a MoE bundle",
    )
    .argument(
      "[PROMPT]",
      "text to continue; empty or omitted: start a new document (<|endoftext|>)",
    )
    .option("-n, --max-tokens <N>", "most tokens to generate", integerIn(1, 1e6), 128)
    .option("--temperature <X>", "softmax temperature; 0: greedy (argmax)", numberIn(0, 100), 0.8)
    .option("--top-k <N>", "sample among the k most likely tokens (0: all)", integerIn(0, 1e7), 40)
    .option(
      "--top-p <X>",
      "sample in the smallest set of probability ≥ p (1: all)",
      numberIn(0, 1),
      0.95,
    )
    .option(
      "--seed <N>",
      "random seed (default: random; --json reports it)",
      integerIn(0, 2 ** 32 - 1),
    )
    .option("--backend <NAME>", BACKEND_HELP)
    .option("--threads <N>", THREADS_HELP)
    .option("--no-cache", "recompute the whole window for every token (slow; for checking)")
    .option("--expert <CLASS>", "bundle: generate with this expert (or common), not the router's")
    .option(
      "--fallback <CLASS>",
      "bundle: the expert for a prompt the router calls unknown (default: common, else best)",
    )
    .addOption(
      new Option(
        "--mix <MODE>",
        "bundle: route (one expert per prompt; MoE-CE adds its common expert), router " +
          "(every expert weighted by the router's probabilities) or posterior (weighted by " +
          "the experts' posterior for the prompt; one more prefill)",
      ).choices(GENERATE_MIX_MODES).default("route"),
    )
    .addOption(
      new Option(
        "--route <RULE>",
        "bundle: how to pick the expert: router (the n-gram router), likelihood (the expert " +
          "that predicts the prompt best) or combined (the router's probabilities as prior " +
          "against the per-token likelihood)",
      ).choices(ROUTE_RULES).default("router"),
    )
    .addHelpText(
      "after",
      `
The prompt keeps its last (context − min(max-tokens, context/2)) tokens (a warning says how many
were dropped); when the text fills the context, the window slides to its last half and goes on.
Generation stops after --max-tokens tokens or at <|endoftext|>.
A bundle routes the whole prompt once. A MoE-CE bundle generates with the routed expert and its
common expert together (final hidden states averaged, ½ each, one KV cache per stack); --expert
runs one expert alone. --mix router weights every expert by the router's probabilities: hidden
states mixed when the experts share their embedding (JEET, MoE-CE), next-token probabilities
mixed when they do not (PLE). --json "route" lists the experts that generate and their weights.
--route likelihood prefills the prompt with every expert, scoring it, and keeps the best one's
KV cache (p(k | x) ∝ p_k(x)); combined weighs the router's probability against the per-token
likelihood (p(k | x) ∝ prior_k · p_k(x)^(1/n) over the n scored tokens), so a long prompt does
not outweigh a confident router. --json "route" gives the posterior, each expert's
log-likelihood, scoredTokens and scoringMs (the extra ms the other experts' prefills cost); --fallback (for prompts the router calls unknown) is for --route router only.
--mix posterior weights every expert by the combined posterior (the likelihood one with --route
likelihood): it scores the prompt first, then the mixture prefills it again.

Examples:
  moe generate runs/teacher "The history of"
  moe generate runs/teacher "def fibonacci(n):" --temperature 0 --max-tokens 64
  moe generate runs/teacher/step-001000 "Il était une fois" --seed 7 --top-p 0.9 --json
  moe generate .demo/teacher "" --backend wasm --threads 1
  moe generate .demo/moe "Le chat dort" --json          # a bundle: routed to its fr expert
  moe generate .demo/moe "x = 1" --expert py
  moe generate .demo/moe "Der Hund und le chat" --mix router --json   # soft routing
  moe generate .demo/moe "see sysconf(_SC_CLK_TCK)" --route likelihood --json
  moe generate .demo/moe "Der Hund und le chat" --mix posterior --json`,
    )
    .action(action(runGenerate));
}

/** Opens the model (a bundle routes the prompt), generates, and disposes of the decoder. */
async function runGenerate(
  model: string,
  prompt: string | undefined,
  flags: GenerateFlags,
): Promise<void> {
  checkGenerateFlags(flags);
  const sampling: SamplingOptions = {
    temperature: flags.temperature,
    topK: flags.topK,
    topP: flags.topP,
    seed: flags.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
  };
  const { backend } = await openCommandBackend(flags);
  const opened = await openModel(model, backend, {
    mode: flags.cache ? "cache" : "recompute",
    prompt: prompt ?? "",
    ...(flags.expert !== undefined ? { expert: flags.expert } : {}),
    ...(flags.fallback !== undefined ? { fallback: flags.fallback } : {}),
    mix: flags.mix,
    route: flags.route,
    maxTokens: flags.maxTokens,
  });
  if (opened.route && !flags.json && Deno.stderr.isTerminal()) {
    const { weights, by, rule, routing, scoringMs } = opened.route;
    const stacks = Object.entries(weights).map(([name, w]) => `${name} ${w.toFixed(2)}`);
    const scored = routing === "router"
      ? ""
      : `; --route ${routing}, ${scoringMs.toFixed(0)} ms scoring`;
    console.error(`[${stacks.join(" + ")} (${by}${rule ? `, ${rule}` : ""}${scored})]`);
  }
  try {
    await streamGeneration(opened, prompt ?? "", flags, sampling, backend);
  } finally {
    await opened.decoder.dispose();
  }
}

/** The flag combinations commander cannot check. */
function checkGenerateFlags(flags: GenerateFlags): void {
  if (flags.topP === 0) throw new UsageError("Invalid --top-p 0: expected a number in (0, 1]");
  for (const [flag, value] of [["--expert", flags.expert], ["--fallback", flags.fallback]]) {
    // Checked here too (the bundle loader does) so that it fails before the model loads.
    if (flags.mix !== "route" && value !== undefined) {
      throw new UsageError(
        `Invalid ${flag} with --mix ${flags.mix}: soft routing uses every expert`,
      );
    }
  }
}

/**
 * Generates from `text`, writing each piece to stdout as it comes (or, with `--json`, the whole
 * result at the end), then the timings on a terminal.
 */
async function streamGeneration(
  opened: OpenedModel,
  text: string,
  flags: GenerateFlags,
  sampling: SamplingOptions,
  backend: Backend,
): Promise<void> {
  const { decoder, tokenizer, eotId } = opened;
  const ids = Array.from(tokenizer.encode(text));
  const stream = new TokenTextStream(tokenizer);
  const out = new TextEncoder();
  let generated = "";
  const onToken = async (id: number) => {
    const piece = stream.push(id);
    generated += piece;
    if (!flags.json && piece) await Deno.stdout.write(out.encode(piece));
  };
  const options = { maxTokens: flags.maxTokens, eotId, sampling };
  // Empty prompt: the loop starts from <|endoftext|>, the start of a new document. A decoder
  // that likelihood routing prefilled goes on from its cache.
  const { prefilled } = opened;
  const result = prefilled
    ? {
      ...await generate(
        decoder,
        prefilled.ids,
        { ...options, prefilled: prefilled.logits },
        onToken,
      ),
      truncated: prefilled.truncated,
    }
    : await generate(decoder, ids, options, onToken);
  const rest = stream.flush();
  generated += rest;
  if (result.truncated > 0) {
    console.error(
      `moe: warning: the prompt has ${ids.length} tokens; kept the last ${result.promptTokens} ` +
        `(context ${decoder.contextLength}, --max-tokens ${flags.maxTokens})`,
    );
  }
  if (flags.json) {
    return printJson({
      ...jsonSummary(text, generated, result, sampling, backend.description, opened.dir),
      ...(opened.route ? { route: opened.route } : {}),
    });
  }
  await Deno.stdout.write(out.encode(rest + "\n"));
  if (Deno.stderr.isTerminal()) {
    console.error(
      `[${result.tokens.length} tokens, ${
        result.stop === "eot" ? "<|endoftext|>" : "max tokens"
      }; ` +
        `first token ${result.firstTokenMs.toFixed(0)} ms, ${
          result.tokensPerSecond.toFixed(1)
        } tokens/s ` +
        `on ${backend.name}; seed ${sampling.seed}]`,
    );
  }
}

function jsonSummary(
  prompt: string,
  text: string,
  r: GenerateResult,
  sampling: SamplingOptions,
  backend: string,
  checkpoint: string,
) {
  return {
    prompt,
    tokens: r.tokens,
    text,
    truncated: r.truncated,
    prompt_tokens: r.promptTokens,
    stop: r.stop,
    slides: r.slides,
    sampling: {
      temperature: sampling.temperature,
      top_k: sampling.topK,
      top_p: sampling.topP,
      seed: sampling.seed,
    },
    checkpoint,
    backend,
    timings: {
      first_token_ms: round(r.firstTokenMs),
      tokens_per_s: round(r.tokensPerSecond),
    },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
