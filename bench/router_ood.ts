/**
 * `deno task bench router_ood --data DIR [--ood DIR] [--before DIR] [--out DIR] [--work DIR]`:
 * the router on held-out text and on every out-of-distribution set, at 32, 64 and 128
 * characters, trained and evaluated by the `moe` commands themselves — for this code and, with
 * `--before`, for an older checkout of it, so that both come from the same run setup (issue #18).
 *
 * For each code version: `moe router train --data DIR` (the defaults), then `moe router eval
 * --lengths 32,64,128 --json` (2 000 windows per class and length, seed 7) on
 * - `held-out`: the test split of DIR;
 * - `ood`: GIMP help and UD sentences (en/fr/de) with NumPy (py), the README's OOD figure;
 * - `manpages`: the Linux manual pages (en/fr/de) with NumPy as py, so that every class has
 *   windows and macro-F1 is over four classes (the issue's acceptance figure);
 * - each source alone (GIMP help, UD sentences, NumPy, manual pages): accuracy, the share of
 *   windows routed to their page's language (or py).
 *
 * DIR is a `moe balance --split 0.8,0.1,0.1` of `../shared/data/corpus`; `--before` a git
 * checkout with its `node_modules` (`git clone -q --no-checkout . B && git -C B checkout -q COMMIT
 * && (cd B && deno install)`, or a link to this one's `node_modules`); the report names both
 * commits.
 * `--out` receives `report.json` (every command, every report) and `report.md` (the table);
 * `--work` the trained routers (default: a new temporary directory).
 * Results: macro-F1 / accuracy at 128 characters, ours = this code, reference = `--before`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchResult, ratio } from "./_result.ts";

const LENGTHS = [32, 64, 128];
const PROSE = ["en", "fr", "de"];

/** One evaluation: a name, what it measures, and the `moe router eval` data arguments. */
interface EvalSet {
  name: string;
  metric: "macro-F1" | "accuracy";
  args: string[];
}

function evalSets(data: string, ood: string): EvalSet[] {
  const each = (source: string) =>
    PROSE.flatMap((c) => ["--input", `${c}=${join(ood, `${c}-${source}.jsonl.gz`)}`]);
  const numpy = ["--input", `py=${join(ood, "py-numpy.jsonl.gz")}`];
  return [
    { name: "held-out", metric: "macro-F1", args: ["--data", data, "--split", "test"] },
    {
      name: "ood",
      metric: "macro-F1",
      args: [...each("gimp-help"), ...each("ud-sentences"), ...numpy],
    },
    { name: "manpages", metric: "macro-F1", args: [...each("manpages"), ...numpy] },
    { name: "gimp-help", metric: "accuracy", args: each("gimp-help") },
    { name: "ud-sentences", metric: "accuracy", args: each("ud-sentences") },
    { name: "numpy", metric: "accuracy", args: numpy },
    { name: "manpages (alone)", metric: "accuracy", args: each("manpages") },
  ];
}

/** What `moe router eval --json` reports per length (the fields used here). */
interface LengthReport {
  length: number;
  accuracy: number;
  macro: { f1: number };
  labels: string[];
  confusion: number[][];
}

/** One code version's figures. */
interface VersionResult {
  root: string;
  commit: string;
  train: { command: string; report: unknown };
  evals: { name: string; metric: string; command: string; reports: LengthReport[] }[];
}

/** Runs `moe` from the checkout `root` and returns its stdout; throws with stderr on failure. */
async function moe(root: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", join(root, "deno.json"), join(root, "main.ts"), ...args],
    cwd: root,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) {
    throw new Error(`moe ${args.join(" ")} in "${root}" failed: ${text.decode(stderr).trim()}`);
  }
  return text.decode(stdout);
}

async function commitOf(root: string): Promise<string> {
  const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: root }).output()
    .catch(() => null);
  const head = out?.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  const dirty = await new Deno.Command("git", { args: ["status", "--porcelain"], cwd: root })
    .output().then((o) => o.success && o.stdout.length > 0, () => false);
  return dirty ? `${head} + uncommitted changes` : head;
}

/**
 * Trains and evaluates with the checkout `root`; `show` writes a command line with the paths as
 * the user gave them (the commands run with absolute ones, from the checkout's directory).
 */
async function measure(
  root: string,
  model: string,
  data: string,
  sets: EvalSet[],
  show: (command: string) => string,
): Promise<VersionResult> {
  const train = ["router", "train", "--data", data, "--out", model, "--force"];
  const report = JSON.parse(await moe(root, [...train, "--json"]));
  const result: VersionResult = {
    root,
    commit: await commitOf(root),
    train: { command: show(`moe ${train.join(" ")}`), report },
    evals: [],
  };
  for (const set of sets) {
    const args = ["router", "eval", "--model", model, ...set.args, "--lengths", LENGTHS.join(",")];
    const out = JSON.parse(await moe(root, [...args, "--json"]));
    result.evals.push({
      name: set.name,
      metric: set.metric,
      command: show(`moe ${args.join(" ")}`),
      reports: out.results[0].reports,
    });
  }
  return result;
}

function figure(r: LengthReport, metric: string): number {
  return metric === "accuracy" ? r.accuracy : r.macro.f1;
}

/** Windows of true class `from` routed to `to` in a report (0 when either is absent). */
function routed(r: LengthReport, from: string, to: string): number {
  const t = r.labels.indexOf(from), p = r.labels.indexOf(to);
  return t < 0 || p < 0 ? 0 : r.confusion[t]?.[p] ?? 0;
}

function markdown(
  before: VersionResult | null,
  after: VersionResult,
  load: number[],
  dataset: string,
): string {
  const f = (v: number | undefined) => v === undefined ? "—" : v.toFixed(4);
  const head = LENGTHS.flatMap((l) => before ? [`@${l} before`, `@${l} after`] : [`@${l}`]);
  const lines = [
    "# The router on held-out and out-of-distribution text",
    "",
    "Written by `deno task bench router_ood` (see `bench/router_ood.ts`); " +
    `load average ${load.map((v) => v.toFixed(1)).join(" / ")} at the start.`,
    "",
    `- after: \`${after.commit}\``,
    ...(before ? [`- before: \`${before.commit}\``] : []),
    "",
    `| set | metric | ${head.join(" | ")} |`,
    `| --- | --- | ${head.map(() => "---:").join(" | ")} |`,
  ];
  after.evals.forEach((e, i) => {
    const b = before?.evals[i];
    const cells = e.reports.flatMap((r, k) =>
      b ? [f(figure(b.reports[k]!, e.metric)), f(figure(r, e.metric))] : [f(figure(r, e.metric))]
    );
    lines.push(`| ${e.name} | ${e.metric} | ${cells.join(" | ")} |`);
  });
  lines.push(
    "",
    "held-out: the test split; ood: GIMP help and UD sentences (en/fr/de) with NumPy (py); " +
      "manpages: the Linux manual pages (en/fr/de) with NumPy as py, macro-F1 over four classes; " +
      "the other rows: each source alone, accuracy = the share of windows routed to their label. " +
      "2 000 windows per class and length (seed 7); routers trained by `moe router train` with " +
      "its defaults on the train split (the val split calibrates).",
  );
  const man = (v: VersionResult) => v.evals.find((e) => e.name === "manpages")!.reports.at(-1)!;
  const moves = (v: VersionResult) => {
    const r = man(v);
    const n = (a: string, b: string) => `${a}→${b} ${routed(r, a, b)}`;
    return [n("en", "py"), n("fr", "py"), n("fr", "en"), n("de", "py"), n("de", "en")].join(", ");
  };
  lines.push("", "Manual-page windows routed elsewhere at 128 characters (of 2 000 per language):");
  if (before) lines.push(`- before: ${moves(before)}`);
  lines.push(`- after: ${moves(after)}`, "", "Commands (after; before ran the same ones):", "");
  lines.push(
    "```sh",
    dataset,
    after.train.command,
    ...after.evals.map((e) => e.command),
    "```",
    "",
  );
  return lines.join("\n");
}

/** Runs the measurement; see the module documentation. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      ood: { type: "string", default: "../shared/data/ood" },
      before: { type: "string" },
      out: { type: "string" },
      work: { type: "string" },
    },
  });
  if (!values.data) throw new Error("Give --data DIR: a moe balance dataset of the shared corpus");
  const here = join(new URL(".", import.meta.url).pathname, "..");
  const abs = (p: string) => p.startsWith("/") ? p : join(Deno.cwd(), p);
  const data = abs(values.data), ood = abs(values.ood);
  const sets = evalSets(data, ood);
  const work = abs(values.work ?? await Deno.makeTempDir({ prefix: "moe-bench-router-ood-" }));
  await Deno.mkdir(work, { recursive: true });
  const given: [string, string][] = [[data, values.data], [ood, values.ood], [work, "WORK"]];
  const show = (command: string) => given.reduce((c, [a, g]) => c.replaceAll(a, g), command);
  const manifest = JSON.parse(await Deno.readTextFile(join(data, "manifest.json")));
  const dataset = (manifest.command as string[]).join(" ");
  const load = Deno.loadavg();
  const before = values.before
    ? await measure(abs(values.before), join(work, "before.json"), data, sets, show)
    : null;
  const after = await measure(here, join(work, "after.json"), data, sets, show);
  if (values.out) {
    await Deno.mkdir(values.out, { recursive: true });
    const report = { lengths: LENGTHS, loadAverage: load, dataset, before, after };
    await Deno.writeTextFile(
      join(values.out, "report.json"),
      JSON.stringify(report, null, 2) + "\n",
    );
    await Deno.writeTextFile(join(values.out, "report.md"), markdown(before, after, load, dataset));
  }
  return after.evals.map((e, i) => {
    const ours = figure(e.reports.at(-1)!, e.metric);
    const reference = before ? figure(before.evals[i]!.reports.at(-1)!, e.metric) : null;
    return {
      metric: `${e.name} ${e.metric} @128`,
      unit: "",
      ours,
      reference,
      ratio: ratio(ours, reference),
    };
  });
}
