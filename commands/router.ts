/**
 * `moe router train | eval | route`: the per-sequence router that picks an expert for each input.
 * `route` is here; `train` and `eval` have a file each.
 *
 * @module
 */
import { Command } from "commander";
import { UsageError } from "./_errors.ts";
import { Router } from "../core/routing/mod.ts";
import { readLines } from "../core/data/mod.ts";
import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { numberIn } from "./_option_values.ts";
import { trainCommand } from "./router_train.ts";
import { evalCommand } from "./router_eval.ts";

interface RouteFlags extends GlobalOptions {
  model: string;
  jsonl?: string;
  minConfidence: number;
}

async function routeTexts(
  flags: RouteFlags,
  texts: string[],
): Promise<string[] | AsyncGenerator<string>> {
  if (texts.length > 0) return texts;
  if (flags.jsonl) {
    const path = flags.jsonl;
    return (async function* () {
      const decoder = new TextDecoder();
      for await (const line of readLines(path)) {
        const raw = decoder.decode(line.bytes);
        if (raw.trim() === "") continue;
        let record: unknown;
        try {
          record = JSON.parse(raw);
        } catch {
          throw new SyntaxError(`Cannot read "${path}:${line.number}": malformed JSON`);
        }
        const text = (record as Record<string, unknown>)?.text;
        if (typeof text !== "string") {
          throw new SyntaxError(`Cannot read "${path}:${line.number}": no "text" string`);
        }
        yield text;
      }
    })();
  }
  return [await new Response(Deno.stdin.readable).text()];
}

function routeCommand(): Command {
  return standardCommand("route", "Route text to a class with calibrated probabilities")
    .argument("[text...]", "texts to route (default: all of stdin as one text)")
    .requiredOption("-m, --model <FILE>", "router model file")
    .option("--jsonl <FILE>", 'route the "text" of every line of a JSON Lines file (plain or .gz)')
    .option("--min-confidence <P>", "answer unknown below this probability", numberIn(0, 1), 0)
    .addHelpText(
      "after",
      `
Examples:
  moe router route --model router.json "def main(argv):" "Der Hund schläft."
  echo "Le chat dort sur le canapé." | moe router route --model router.json --json
  moe router route --model router.json --jsonl prompts.jsonl --min-confidence 0.9 --json`,
    )
    .action(action(async (texts: string[], flags: RouteFlags) => {
      if (texts.length > 0 && flags.jsonl) {
        throw new UsageError("Give texts as arguments or --jsonl, not both");
      }
      const router = await Router.load(flags.model);
      const results = [];
      for await (const text of await routeTexts(flags, texts)) {
        const r = router.route(text, flags.minConfidence);
        if (flags.json) results.push(r);
        else {
          const probs = router.classes.map((c) => `${c}=${r.probabilities[c]!.toFixed(4)}`).join(
            " ",
          );
          console.log(
            `${r.label}\t${r.confidence.toFixed(4)}\t${probs}${r.reason ? `\t(${r.reason})` : ""}`,
          );
        }
      }
      if (flags.json) printJson(results);
    }));
}

/** The `router` command group. */
export function routerCommand(): Command {
  return new Command("router")
    .description("Train, evaluate and run the per-sequence router (language/code classifier)")
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(routeCommand())
    .addHelpText(
      "after",
      `
Examples:
  moe router train --data data/balanced --out router.json
  moe router eval --model router.json --data data/balanced --split test
  moe router route --model router.json "def main(argv):" "Der Hund schläft."`,
    );
}
