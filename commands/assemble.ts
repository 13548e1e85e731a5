/**
 * `moe assemble`: a router plus experts (plus a common expert) → one validated MoE bundle.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "./_errors.ts";
import { assembleBundle, type BundleManifest } from "../pipeline/moe/mod.ts";

import { action, type GlobalOptions, printJson, standardCommand } from "./_run.ts";
import { collect, numberIn } from "./_option_values.ts";

interface AssembleFlags extends GlobalOptions {
  router: string;
  expert: string[];
  common?: string;
  fromMoe?: string;
  out: string;
  minConfidence: number;
  force?: boolean;
}

/** The `assemble` command. */
export function assembleCommand(): Command {
  return standardCommand(
    "assemble",
    "Assemble a router and experts (PLE) or a train-moe run (JEET, MoE-CE) into a MoE bundle",
  )
    .requiredOption("--router <FILE>", "router model (moe router train)")
    .option(
      "--expert <CLASS=DIR>",
      "expert of a class: a run or checkpoint directory of moe train / moe distill (repeat)",
      collect,
      [],
    )
    .option("--common <DIR>", "common expert: a run or checkpoint directory")
    .option("--from-moe <RUN>", "take every expert (and the common one) from a moe train-moe run")
    .requiredOption("-o, --out <DIR>", "bundle directory to create")
    .option(
      "--min-confidence <P>",
      "route inputs below this router probability to the fallback (common expert, else best class)",
      numberIn(0, 1),
      0,
    )
    .option("--force", "replace an existing bundle")
    .addHelpText(
      "after",
      `
Examples:
  moe assemble --router router.json --expert en=runs/en --expert fr=runs/fr --expert de=runs/de --expert py=runs/py --out moe-ple
  moe assemble --router router.json --expert en=runs/en --expert fr=runs/fr --common runs/teacher-small --out moe-ple-ce
  moe assemble --router router.json --from-moe runs/moe-ce --min-confidence 0.6 --out moe-ce`,
    )
    .action(action(async (flags: AssembleFlags) => {
      const experts = new Map<string, string>();
      for (const spec of flags.expert) {
        const match = /^([A-Za-z0-9_-]+)=(.+)$/.exec(spec);
        if (!match) throw new UsageError(`Invalid --expert "${spec}": expected CLASS=DIR`);
        if (experts.has(match[1]!)) {
          throw new UsageError(`Invalid --expert "${spec}": class "${match[1]}" is given twice`);
        }
        experts.set(match[1]!, match[2]!);
      }
      if ((experts.size > 0 || flags.common !== undefined) === (flags.fromMoe !== undefined)) {
        throw new UsageError("Give either --expert CLASS=DIR (and --common DIR) or --from-moe RUN");
      }
      const manifest = await assembleBundle(flags.out, {
        router: flags.router,
        experts,
        ...(flags.common !== undefined ? { common: flags.common } : {}),
        ...(flags.fromMoe !== undefined ? { fromMoE: flags.fromMoe } : {}),
        minConfidence: flags.minConfidence,
        force: flags.force ?? false,
      });
      report(flags.out, manifest, flags.json ?? false);
    }));
}

function report(out: string, m: BundleManifest, json: boolean): void {
  if (json) return printJson({ bundle: out, manifest: m });
  const params = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  console.log(
    `bundle ${out} (${m.variant}, ${m.classes.length} experts${m.common ? " + common" : ""})`,
  );
  for (const c of m.classes) {
    console.log(
      `  ${c}: ${params(m.experts[c]!.parameterCount)} parameters from ${m.experts[c]!.source}`,
    );
  }
  if (m.common) {
    console.log(
      `  common: ${params(m.common.parameterCount)} parameters from ${m.common.source}; ${
        m.combine!.rule
      }`,
    );
  }
}
