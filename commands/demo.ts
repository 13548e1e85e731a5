/**
 * `moe demo`: runs the whole pipeline on the bundled fixtures, printing each command line and what
 * it produced. Each step is a real `moe` subprocess, so the printed lines can be pasted.
 *
 * @module
 */
import type { Command } from "commander";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { selfCommand } from "./_self.ts";

interface DemoFlags extends GlobalOptions {
  out: string;
}

/** One step of the demo: a title and the `moe` arguments, with `OUT` standing for the work dir. */
interface Step {
  title: string;
  args: string[];
}

const CLASSES = ["en", "fr", "de", "py"];

/** The model and budget of every expert the demo distils or trains: one tiny layer, 200 steps. */
const SMALL_RUN = [
  ...["--config", "tiny", "--layers", "1", "--steps", "200", "--batch", "8", "--lr", "3e-3"],
  ...["--eval-every", "0", "--backend", "cpu"],
];

/** Sampling of both generation steps: 40 tokens, a fixed seed, on the cpu backend. */
const GENERATE_FLAGS = ["--max-tokens", "40", "--seed", "3", "--backend", "cpu"];

/** The pipeline, in order: one function per stage, each naming what it makes. */
function steps(): Step[] {
  return [
    ...datasetSteps(),
    ...routerSteps(),
    ...teacherSteps(),
    ...expertSteps(),
    ...bundleSteps(),
    ...moeCeSteps(),
    ...huggingFaceSteps(),
  ];
}

/** The balanced dataset, the tokenizer and the token shards. */
function datasetSteps(): Step[] {
  return [
    {
      title: "balance the four fixture corpora by characters into train/val/test",
      args: [
        "balance",
        ...CLASSES.flatMap((c) => ["--input", `${c}=fixtures/corpus/${c}.jsonl.gz`]),
        ...["--split", "0.8,0.1,0.1", "--out", "OUT/data", "--force"],
      ],
    },
    {
      title: "train a byte-level BPE tokenizer on the train split",
      args: [
        ...["tokenizer", "train", "OUT/data", "--vocab-size", "4000"],
        ...["--out", "OUT/tok.json", "--force"],
      ],
    },
    {
      title: "encode every split into token shards",
      args: [
        ...["tokenizer", "encode", "--data", "OUT/data", "--tokenizer", "OUT/tok.json"],
        ...["--out", "OUT/tokens", "--force"],
      ],
    },
    {
      title: "measure compression (bytes per token) per class on the validation split",
      args: ["tokenizer", "info", "--tokenizer", "OUT/tok.json", "--data", "OUT/data"],
    },
  ];
}

/** The router: trained, evaluated on two out-of-distribution sets, and run on a few prompts. */
function routerSteps(): Step[] {
  const oodEval = (inputs: string[]) => [
    ...["router", "eval", "--model", "OUT/router.json"],
    ...inputs,
    ...["--input", "py=fixtures/ood/py-numpy.jsonl.gz", "--lengths", "128", "--windows", "300"],
  ];
  return [
    {
      title: "train the router (per-sequence class with calibrated probabilities)",
      args: [
        ...["router", "train", "--data", "OUT/data", "--windows", "1500"],
        ...["--out", "OUT/router.json", "--force"],
      ],
    },
    {
      title:
        "evaluate the router on out-of-distribution text (GIMP help, UD sentences, numpy) at 128 characters",
      args: oodEval(["en", "fr", "de"].flatMap((c) => [
        ...["--input", `${c}=fixtures/ood/${c}-gimp-help.jsonl.gz`],
        ...["--input", `${c}=fixtures/ood/${c}-ud-sentences.jsonl.gz`],
      ])),
    },
    {
      title:
        "evaluate the router on Linux manual pages (prose quoting identifiers, paths and options; numpy as py) at 128 characters",
      args: oodEval(
        ["en", "fr", "de"].flatMap((c) => ["--input", `${c}=fixtures/ood/${c}-manpages.jsonl.gz`]),
      ),
    },
    {
      title: "route a few prompts",
      args: [
        ...["router", "route", "--model", "OUT/router.json"],
        "def main(argv):",
        "To edit XML files, use your preferred text editor.",
        "Der Hund schläft.",
        "Le chat dort sur le canapé.",
        "If O_NONBLOCK is set, read() returns at once with EAGAIN; see fcntl(2).",
      ],
    },
  ];
}

/** The teacher: trained, exported to Hugging Face, and its curves plotted. */
function teacherSteps(): Step[] {
  return [
    {
      title:
        "train a tiny GPT-2 teacher on all four classes (balanced batches), with per-class validation",
      args: [
        ...["train", "--data", "OUT/tokens", "--config", "tiny", "--schedule", "balanced"],
        ...["--steps", "1500", "--batch", "8", "--lr", "3e-3", "--eval-every", "500"],
        ...["--backend", "cpu", "--out", "OUT/teacher", "--force"],
      ],
    },
    {
      title: "export the teacher as Hugging Face GPT-2 safetensors",
      args: ["export", "--checkpoint", "OUT/teacher", "--out", "OUT/teacher-hf", "--force"],
    },
    {
      title: "plot the teacher's training curves (report.md, loss/lr SVG + PNG)",
      args: ["report", "OUT/teacher/metrics.jsonl", "--out", "OUT/teacher-report"],
    },
  ];
}

/** The teacher's cache, then one expert per class distilled from it. */
function expertSteps(): Step[] {
  return [
    {
      title: "run the teacher once over the train shards and cache its top-32 log-probabilities",
      args: [
        ...["distill", "cache", "--teacher", "OUT/teacher", "--data", "OUT/tokens"],
        ...["--top-k", "32", "--backend", "cpu", "--out", "OUT/cache", "--force"],
      ],
    },
    ...CLASSES.map((c) => ({
      title: `distil a one-layer ${c} expert from the cache (α 0.5 · CE + 0.5 · forward KL, τ 2)`,
      args: [
        ...["distill", "--cache", "OUT/cache", "--data", "OUT/tokens", "--lang", c],
        ...SMALL_RUN,
        ...["--out", `OUT/experts/${c}`, "--force"],
      ],
    })),
  ];
}

/** The PLE bundle of router and experts: assembled, evaluated, generated from. */
function bundleSteps(): Step[] {
  return [
    {
      title: "assemble router + experts into a PLE bundle (validated, reloadable)",
      args: [
        ...["assemble", "--router", "OUT/router.json"],
        ...CLASSES.flatMap((c) => ["--expert", `${c}=OUT/experts/${c}`]),
        ...["--out", "OUT/moe", "--force"],
      ],
    },
    {
      title:
        "evaluate teacher, each expert, routed MoE, soft routing (router-weighted) and oracle routing per class",
      args: [
        ...["eval", "OUT/moe", "--data", "OUT/tokens", "--teacher", "OUT/teacher"],
        ...["--rows", "32", "--mix", "router", "--backend", "cpu"],
      ],
    },
    {
      title: "generate from the bundle: the router picks the expert, KV-cache decoding",
      args: ["generate", "OUT/moe", "Le chat dort sur le canapé", ...GENERATE_FLAGS],
    },
    {
      title:
        "routing rules on English manual pages: regret of the n-gram router vs likelihood routing",
      args: [
        ...["eval", "OUT/moe", "--jsonl", "fixtures/ood/en-manpages.jsonl.gz", "--label", "en"],
        ...["--backend", "cpu"],
      ],
    },
    {
      title: "generate routed by likelihood: every expert scores the prompt, the best one goes on",
      args: [
        ...["generate", "OUT/moe", "NAME intro - introduction to system calls", "--route"],
        ...["likelihood", ...GENERATE_FLAGS],
      ],
    },
  ];
}

/** A MoE-CE trained jointly with KD from the teacher, assembled and generated from. */
function moeCeSteps(): Step[] {
  return [
    {
      title:
        "train a MoE-CE jointly (shared embedding and head, one stack per class + a common stack), KD from the teacher",
      args: [
        ...["train-moe", "--variant", "moe-ce", "--data", "OUT/tokens", "--teacher", "OUT/teacher"],
        ...SMALL_RUN,
        ...["--out", "OUT/moe-ce-run", "--force"],
      ],
    },
    {
      title: "assemble the MoE-CE run into a bundle (each expert and the common expert reloadable)",
      args: [
        ...["assemble", "--router", "OUT/router.json", "--from-moe", "OUT/moe-ce-run"],
        ...["--out", "OUT/moe-ce", "--force"],
      ],
    },
    {
      title:
        "generate from the MoE-CE bundle: routed expert + common expert, hidden states averaged",
      args: ["generate", "OUT/moe-ce", "Der Hund schläft im Garten", ...GENERATE_FLAGS],
    },
  ];
}

/** The Hugging Face side: the MoE-CE's experts exported, the teacher's export read back. */
function huggingFaceSteps(): Step[] {
  return [
    {
      title:
        "export the MoE-CE run's experts as Hugging Face GPT-2 folders (each loads with from_pretrained) + moe-bundle.json",
      args: [
        ...["export", "--checkpoint", "OUT/moe-ce-run", "--router", "OUT/router.json"],
        ...["--out", "OUT/moe-ce-hf", "--force"],
      ],
    },
    {
      title:
        "score a text with a Hugging Face folder read directly (the teacher's export): loss and perplexity",
      args: ["eval", "OUT/teacher-hf", "--text", "fixtures/README.md", "--backend", "cpu"],
    },
  ];
}

/** The `demo` command. */
export function demoCommand(): Command {
  return standardCommand(
    "demo",
    "Run the whole pipeline on the bundled fixtures and show what each step produced",
  )
    .option("-o, --out <DIR>", "work directory for the demo's outputs", ".demo")
    .addHelpText("after", "\nExamples:\n  moe demo\n  moe demo --out /tmp/moe-demo --json")
    .action(action(async (flags: DemoFlags) => {
      await Deno.mkdir(flags.out, { recursive: true });
      const report: { title: string; command: string; seconds: number; output: string }[] = [];
      for (const [i, step] of steps().entries()) {
        const args = step.args.map((a) => a.replace(/(^|=)OUT(?=\/)/, `$1${flags.out}`));
        const command = `moe ${args.map(shellQuote).join(" ")}`;
        if (!flags.json) console.log(`\n[${i + 1}] ${step.title}\n$ ${command}`);
        const start = performance.now();
        const output = await runSelf(args);
        const seconds = (performance.now() - start) / 1000;
        report.push({ title: step.title, command, seconds, output });
        if (!flags.json) console.log(`${output.trimEnd()}\n(${seconds.toFixed(1)} s)`);
      }
      if (flags.json) printJson({ out: flags.out, steps: report });
    }));
}

/** Quotes an argument for a POSIX shell when it needs it, so printed lines can be pasted. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/** Runs this same program with `args`; fails with the step's stderr if it fails. */
async function runSelf(args: string[]): Promise<string> {
  const self = selfCommand(args);
  const { code, stdout, stderr } = await new Deno.Command(self.program, {
    args: self.args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) {
    throw new Error(`Demo step "moe ${args.join(" ")}" failed: ${text.decode(stderr).trim()}`);
  }
  return text.decode(stdout);
}
