/**
 * Uniform expert averages, the paper's evaluation of a MoE (arXiv 2407.19610, §4: subsets of
 * experts averaged with equal weights — en+py, fr+py, de+py, all four — each with and without the
 * common expert): every member of the subset weighs 1/k for every sequence, whatever the router
 * says. `moe eval --average en,py` adds the row `avg(en+py)`.
 *
 * How they combine is the soft-routing rule (`mixture.ts`) with uniform weights instead of the
 * router's: stacks that share their embedding (JEET, MoE-CE) average their final hidden states
 * before the one head, `head(Σ hᵢ / k)`; stacks with their own embeddings (PLE) average their
 * next-token distributions, `p = Σ pᵢ / k`.
 *
 * @module
 */
import { COMMON } from "../../models/moe.ts";
import { type MixRule, sharesEmbedding } from "../../models/moe_mixture.ts";
import type { GPTConfig } from "../../models/gpt.ts";
import type { Bundle } from "./bundle.ts";
import { bundleMember } from "./mixture_plan.ts";

/**
 * Parses one `--average` value: classes of the bundle and optionally `common`, comma-separated,
 * at least two members, none twice; `all` stands for every class.
 *
 * @param text E.g. `en,py`, `en,py,common`, `all,common`.
 * @param classes The bundle's classes.
 * @param hasCommon Whether the bundle has a common expert.
 * @returns The members, classes in the bundle's order, `common` last.
 * @throws {RangeError} Naming the value and what is allowed.
 * @example
 * ```ts
 * import { parseAverage } from "./uniform_average.ts";
 * console.assert(parseAverage("py, en", ["en", "fr", "py"], false).join() === "en,py");
 * console.assert(parseAverage("all,common", ["en", "fr"], true).join() === "en,fr,common");
 * ```
 */
export function parseAverage(
  text: string,
  classes: readonly string[],
  hasCommon: boolean,
): string[] {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const allowed = [...classes, ...(hasCommon ? [COMMON] : [])];
  const fail = (why: string): never => {
    throw new RangeError(
      `Cannot average "${text}": ${why} (members: ${allowed.join(", ")}, or all for every class)`,
    );
  };
  const members = new Set<string>();
  for (const n of names) {
    const add = n === "all" ? classes : [n];
    for (const m of add) {
      if (!allowed.includes(m)) fail(`"${m}" is not an expert of the bundle`);
      if (members.has(m)) fail(`"${m}" is named twice`);
      members.add(m);
    }
  }
  if (members.size < 2) fail("an average needs at least two experts");
  return allowed.filter((m) => members.has(m));
}

/**
 * The row name of an average: `avg(en+py)`, `avg(en+py+common)`.
 *
 * @example
 * ```ts
 * import { averageRowName } from "./uniform_average.ts";
 * console.assert(averageRowName(["en", "py", "common"]) === "avg(en+py+common)");
 * ```
 */
export function averageRowName(members: readonly string[]): string {
  return `avg(${members.join("+")})`;
}

/** How the members combine: hidden states when they share the embedding, else distributions. */
export function averageRule(bundle: Bundle, members: readonly string[]): MixRule {
  return sharesEmbedding(members.map((m) => bundleMember(bundle, m)))
    ? "hidden-mean"
    : "probability-mean";
}

/** Per-token losses by class (`[rows, T]`, 0 where not counted). */
type ClassLosses = ReadonlyMap<string, Float32Array>;

/**
 * Per-token losses of the uniform average of `members` on every class.
 *
 * @param bundle The bundle.
 * @param members From {@linkcode parseAverage}.
 * @param losses Each member's own losses, by `expert:<class>` or `common` (probability mean).
 * @param run Runs a hidden-mean loss graph of stacks sharing `config`'s embedding (hidden mean).
 * @param mix The loss of a weighted mixture from its members' losses, `−log Σ wᵢe^{−aᵢ}`.
 * @returns The average's losses by class.
 */
export async function averageLosses(
  bundle: Bundle,
  members: readonly string[],
  losses: ReadonlyMap<string, ClassLosses>,
  run: (config: GPTConfig, parts: ReadonlyMap<string, Float32Array>[]) => Promise<ClassLosses>,
  mix: (losses: readonly number[], weights: readonly number[]) => number,
): Promise<ClassLosses> {
  const stacks = members.map((m) => bundleMember(bundle, m));
  if (averageRule(bundle, members) === "hidden-mean") {
    return await run(stacks[0]!.config, stacks.map((s) => s.values));
  }
  const own = members.map((m) => {
    const l = losses.get(m === COMMON ? COMMON : `expert:${m}`);
    if (!l) throw new RangeError(`Cannot average "${m}": its losses were not computed`);
    return l;
  });
  const weights = members.map(() => 1 / members.length);
  const out = new Map<string, Float32Array>();
  for (const cls of own[0]!.keys()) {
    const parts = own.map((l) => l.get(cls)!);
    out.set(cls, parts[0]!.map((_, t) => mix(parts.map((p) => p[t]!), weights)));
  }
  return out;
}

/**
 * The paper's subsets of a bundle's classes: each class with the code class (`py`) — en+py,
 * fr+py, de+py — and all classes; each also with `common` when the bundle has one. Without a
 * `py` class, only "all classes" (± common).
 *
 * @example
 * ```ts
 * import { paperAverages } from "./uniform_average.ts";
 * const a = paperAverages(["en", "fr", "de", "py"], true).map((m) => m.join("+"));
 * console.assert(a.join(" ") === "en+py en+py+common fr+py fr+py+common de+py de+py+common en+fr+de+py en+fr+de+py+common");
 * ```
 */
export function paperAverages(classes: readonly string[], hasCommon: boolean): string[][] {
  const code = "py";
  const pairs = classes.includes(code)
    ? classes.filter((c) => c !== code).map((c) => [c, code])
    : [];
  const subsets = [...pairs, [...classes]].filter((s) => s.length >= 2);
  return subsets.flatMap((s) => hasCommon ? [s, [...s, COMMON]] : [s]);
}
