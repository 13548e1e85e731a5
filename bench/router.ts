/**
 * `deno task bench router [--data DIR] [--windows 4000] [--test 1000] [--length 128]`: our router
 * against scikit-learn (Debian `python3-sklearn`: `TfidfVectorizer(analyzer="char_wb",
 * ngram_range=(1, 3), sublinear_tf=True)` + `LogisticRegression(max_iter=1000)`) and
 * `fasttext supervised` (Debian `fasttext`, `-minn 1 -maxn 4 -epoch 25 -thread 1`), in one run, on
 * the same windows:
 *
 * - training windows: `--windows` per class, 32–1 024 characters, from the train groups
 *   (hash of `group` mod 10 < 8) of `DIR/corpus`. Ours additionally adds its prose-from-code
 *   windows (half as many again for en, weight 0.5; see core/routing/augment.ts) — that is part of
 *   its method; "ours (same windows)" trains on exactly the baseline windows. Ours is the default
 *   `logistic-nb` classifier, calibrated on 500 windows per class cut (inside the timed part) from
 *   the train groups;
 * - test windows of `--length` characters: `--test` per class from the test groups (mod 10 = 9),
 *   and `--test` per class from `DIR/ood` (never trained on); plus `--test` per class of 32
 *   characters from the test groups;
 * - train time: wall seconds of feature extraction + fit (ours in-process; sklearn measured inside
 *   its process around `fit`; fastText around the subprocess); predictions/s: single thread,
 *   features + classification of every test window, the best of 3 passes for ours and for
 *   scikit-learn (one pass for fastText, which includes loading its model).
 *
 * Ratios are oriented so that > 1 means ours is better (faster, more accurate).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readDocuments } from "../core/data/mod.ts";
import {
  DEFAULT_ROUTER_TRAINING,
  type Router,
  type RouterTrainOptions,
  sampleWindows,
  type TrainingWindows,
  trainingWindows,
  trainOnWindows,
} from "../core/routing/mod.ts";
import { type BenchResult, ratio } from "./_result.ts";

const CLASSES = ["en", "fr", "de", "py"];

const SKLEARN = `
import json, sys, time
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
d = sys.argv[1]
load = lambda n: json.load(open(f"{d}/{n}.json"))
train, test, ood, test32 = load("train"), load("test"), load("ood"), load("test32")
t0 = time.perf_counter()
vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
X = vec.fit_transform([t for t, _ in train])
clf = LogisticRegression(max_iter=1000).fit(X, [y for _, y in train])
train_s = time.perf_counter() - t0
pred_s = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    pred = clf.predict(vec.transform([t for t, _ in test]))
    pred_s = min(pred_s, time.perf_counter() - t0)
acc = lambda p, s: sum(a == y for a, (_, y) in zip(p, s)) / len(s)
print(json.dumps({"train_s": train_s, "pred_per_s": len(test) / pred_s, "acc_test": acc(pred, test),
  "acc_ood": acc(clf.predict(vec.transform([t for t, _ in ood])), ood),
  "acc_test32": acc(clf.predict(vec.transform([t for t, _ in test32])), test32)}))
`;

function groupBucket(group: string): number {
  let h = 0;
  for (const c of group) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return (h >>> 0) % 10;
}

async function load(data: string) {
  const train = new Map<string, string[]>(), test = new Map<string, string[]>();
  for (const c of CLASSES) {
    train.set(c, []);
    test.set(c, []);
    for await (const d of readDocuments(join(data, "corpus", `${c}.jsonl.gz`))) {
      const b = groupBucket(d.group);
      if (b < 8) train.get(c)!.push(d.text);
      else if (b === 9) test.get(c)!.push(d.text);
    }
  }
  const ood = new Map<string, string[]>();
  for await (const e of Deno.readDir(join(data, "ood"))) {
    const c = e.name.slice(0, 2);
    for await (const d of readDocuments(join(data, "ood", e.name))) {
      ood.set(c, [...(ood.get(c) ?? []), d.text]);
    }
  }
  return { train, test, ood };
}

type Labelled = [string, string][];

function windowsOf(
  data: Map<string, string[]>,
  count: number,
  length: number,
  seed: number,
): Labelled {
  return CLASSES.flatMap((c, i) =>
    sampleWindows(data.get(c) ?? [], { count, length, seed: seed + i }).map((
      t,
    ): [string, string] => [t, c])
  );
}

function accuracy(router: Router, set: Labelled): number {
  return set.filter(([t, y]) => router.classes[router.predictIndex(t)] === y).length / set.length;
}

async function fasttext(dir: string, test: Labelled, ood: Labelled, test32: Labelled) {
  const line = ([t, y]: [string, string]) => `__label__${y} ${t.replace(/\s+/g, " ")}`;
  const run = async (args: string[]) => {
    const out = await new Deno.Command("fasttext", { args, stdout: "piped", stderr: "null" })
      .output();
    if (!out.success) throw new Error(`fasttext ${args[0]} failed`);
    return new TextDecoder().decode(out.stdout);
  };
  const t0 = performance.now();
  await run([
    "supervised",
    "-input",
    join(dir, "train.txt"),
    "-output",
    join(dir, "ft"),
    "-minn",
    "1",
    "-maxn",
    "4",
    "-epoch",
    "25",
    "-thread",
    "1",
    "-verbose",
    "0",
  ]);
  const trainS = (performance.now() - t0) / 1000;
  const predict = async (set: Labelled, name: string) => {
    await Deno.writeTextFile(join(dir, name), set.map(line).join("\n") + "\n");
    const start = performance.now();
    const labels = (await run(["predict", join(dir, "ft.bin"), join(dir, name)])).trim().split(
      "\n",
    );
    const seconds = (performance.now() - start) / 1000;
    const acc = labels.filter((l, i) => l === `__label__${set[i]![1]}`).length / set.length;
    return { seconds, acc };
  };
  const t = await predict(test, "test.txt");
  const o = await predict(ood, "ood.txt");
  const s = await predict(test32, "test32.txt");
  return {
    trainS,
    predPerS: test.length / t.seconds,
    accTest: t.acc,
    accOod: o.acc,
    accTest32: s.acc,
  };
}

/** Runs the benchmark; see the module doc. */
export async function run(args: string[]): Promise<BenchResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string", default: "/work/shared/data" },
      windows: { type: "string", default: "4000" },
      test: { type: "string", default: "1000" },
      length: { type: "string", default: "128" },
    },
  });
  const perClass = Number(values.windows),
    nTest = Number(values.test),
    length = Number(values.length);
  const { train, test, ood } = await load(values.data);
  const options = { ...DEFAULT_ROUTER_TRAINING, windowsPerClass: perClass };
  const ours = trainingWindows(train, options);
  const baseCount = ours.texts.length - ours.augmented;
  const base: Labelled = ours.texts.slice(0, baseCount).map((
    t,
    i,
  ) => [t, CLASSES[ours.labels[i]!]!]);
  const sets: TestSets = {
    test: windowsOf(test, nTest, length, 101),
    ood: windowsOf(ood, nTest, length, 202),
    test32: windowsOf(test, nTest, 32, 303),
  };
  const dir = await Deno.makeTempDir({ prefix: "moe-bench-router-" });
  try {
    await writeBaselineInputs(dir, base, sets);
    const trained = trainOurs(train, ours, baseCount, options);
    const oursPredPerS = predictionsPerSecond(trained.router, sets.test);
    const s = await sklearn(dir);
    const ft = await fasttext(dir, sets.test, sets.ood, sets.test32);
    const accOurs = accuracy(trained.router, sets.test),
      oodOurs = accuracy(trained.router, sets.ood);
    const acc32 = accuracy(trained.router, sets.test32);
    const n = `${length}ch`;
    const oursTrainS = trained.seconds;
    return [
      row("router train time vs sklearn (cpu, 1 thread)", "s", oursTrainS, s.train_s!, false),
      row(
        "router predictions vs sklearn (cpu, 1 thread)",
        "windows/s",
        oursPredPerS,
        s.pred_per_s!,
      ),
      row(`router accuracy held-out corpus @${n} vs sklearn`, "fraction", accOurs, s.acc_test!),
      row(`router accuracy ood @${n} vs sklearn`, "fraction", oodOurs, s.acc_ood!),
      row("router accuracy held-out corpus @32ch vs sklearn", "fraction", acc32, s.acc_test32!),
      row(
        `router (same windows) accuracy held-out @${n} vs sklearn`,
        "fraction",
        accuracy(trained.same, sets.test),
        s.acc_test!,
      ),
      row(
        `router (same windows) accuracy ood @${n} vs sklearn`,
        "fraction",
        accuracy(trained.same, sets.ood),
        s.acc_ood!,
      ),
      row("router train time vs fasttext (cpu, 1 thread)", "s", oursTrainS, ft.trainS, false),
      row("router predictions vs fasttext (cpu, 1 thread)", "windows/s", oursPredPerS, ft.predPerS),
      row(`router accuracy held-out corpus @${n} vs fasttext`, "fraction", accOurs, ft.accTest),
      row(`router accuracy ood @${n} vs fasttext`, "fraction", oodOurs, ft.accOod),
      row("router accuracy held-out corpus @32ch vs fasttext", "fraction", acc32, ft.accTest32),
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The test windows: held-out corpus and out-of-distribution at `--length`, held-out at 32. */
interface TestSets {
  test: Labelled;
  ood: Labelled;
  test32: Labelled;
}

/** The windows scikit-learn reads (JSON) and fastText trains on (its `__label__` lines). */
async function writeBaselineInputs(dir: string, base: Labelled, sets: TestSets): Promise<void> {
  await Deno.writeTextFile(join(dir, "train.json"), JSON.stringify(base));
  await Deno.writeTextFile(join(dir, "test.json"), JSON.stringify(sets.test));
  await Deno.writeTextFile(join(dir, "ood.json"), JSON.stringify(sets.ood));
  await Deno.writeTextFile(join(dir, "test32.json"), JSON.stringify(sets.test32));
  await Deno.writeTextFile(
    join(dir, "train.txt"),
    base.map(([t, y]) => `__label__${y} ${t.replace(/\s+/g, " ")}`).join("\n") + "\n",
  );
}

/**
 * Ours, timed (calibration windows included), and ours on the baseline windows only ("same
 * windows", untimed).
 */
function trainOurs(
  train: Map<string, string[]>,
  ours: TrainingWindows,
  baseCount: number,
  options: RouterTrainOptions,
): { router: Router; same: Router; seconds: number } {
  // Calibration windows (from the train groups) are cut inside the timed training.
  const t0 = performance.now();
  const calibration = { texts: [] as string[], labels: [] as number[], weights: [] as number[] };
  CLASSES.forEach((c, i) => {
    const lengths = { min: options.minLength, max: options.maxLength };
    for (
      const t of sampleWindows(train.get(c)!, { count: 500, length: lengths, seed: 404 + i })
    ) {
      calibration.texts.push(t);
      calibration.labels.push(i);
    }
  });
  const { router } = trainOnWindows(CLASSES, ours, calibration, options);
  const seconds = (performance.now() - t0) / 1000;
  const same = trainOnWindows(
    CLASSES,
    {
      texts: ours.texts.slice(0, baseCount),
      labels: ours.labels.slice(0, baseCount),
      weights: ours.weights.slice(0, baseCount),
    },
    calibration,
    options,
  ).router;
  return { router, same, seconds };
}

/**
 * Windows classified per second. Best of 3 passes, as for scikit-learn: the box is shared, the
 * fastest pass is the least disturbed one.
 */
function predictionsPerSecond(router: Router, set: Labelled): number {
  let bestPass = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = performance.now();
    for (const [t] of set) router.predictIndex(t);
    bestPass = Math.min(bestPass, performance.now() - t0);
  }
  return set.length / (bestPass / 1000);
}

/** Runs {@linkcode SKLEARN} on the windows in `dir`: its train seconds, speed and accuracies. */
async function sklearn(dir: string): Promise<Record<string, number>> {
  const sk = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", SKLEARN, dir],
    env: { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!sk.success) throw new Error(`scikit-learn failed: ${new TextDecoder().decode(sk.stderr)}`);
  return JSON.parse(new TextDecoder().decode(sk.stdout)) as Record<string, number>;
}

/** One comparison row, its ratio oriented so that > 1 means ours is better. */
function row(
  metric: string,
  unit: string,
  o: number,
  r: number,
  higherIsBetter = true,
): BenchResult {
  return { metric, unit, ours: o, reference: r, ratio: higherIsBetter ? ratio(o, r) : ratio(r, o) };
}
