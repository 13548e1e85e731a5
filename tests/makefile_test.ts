import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MOE = `${Deno.execPath()} run -A ${join(ROOT, "main.ts")}`;
// The tiny target at test size: the same steps, fewer optimizer steps and windows.
const SHORT = [
  "TEACHER=--config tiny --schedule balanced --steps 20 --batch 4 --lr 3e-3 --eval-every 0",
  "EXPERT=--config tiny --layers 1 --steps 10 --batch 4 --eval-every 0",
  "ROUTER_WINDOWS=200",
  "EVAL_ROWS=4",
];

async function make(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command("make", {
    args: ["-C", ROOT, `MOE=${MOE}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("make -n prints the pipeline of every target at both scales", async () => {
  const out = await Deno.makeTempDir();
  for (const scale of ["tiny", "small"]) {
    for (const target of ["all", "experts", "report", "clean"]) {
      const { code, stdout, stderr } = await make(["-n", target, `SCALE=${scale}`, `OUT=${out}`]);
      assert.equal(code, 0, `${scale} ${target}: ${stderr}`);
      assert.ok(stdout.trim() !== "", `${scale} ${target} prints nothing`);
    }
    const { stdout } = await make(["-n", "all", `SCALE=${scale}`, `OUT=${out}`]);
    for (const step of ["balance", "tokenizer train", "router train", "train", "distill cache"]) {
      assert.match(stdout, new RegExp(` ${step} `), `${scale}: no ${step}`);
    }
    for (const c of ["en", "fr", "de", "py"]) assert.match(stdout, new RegExp(`--lang ${c} `));
    const commands = stdout.replaceAll("\\\n", " ").split("\n");
    const training = commands.filter((l) => /main\.ts (train|distill --)/.test(l));
    assert.equal(training.length, 5, `${scale}: teacher and four experts`);
    for (const l of training) assert.doesNotMatch(l, /--force/, "a training run is never forced");
  }
  for (const target of ["tiny", "small"]) {
    const { code } = await make(["-n", target, `OUT=${out}`]);
    assert.equal(code, 0, target);
  }
  const bad = await make(["-n", "SCALE=huge"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /SCALE must be tiny or small/);
  assert.deepEqual([...Deno.readDirSync(out)], [], "make -n wrote nothing");
});

Deno.test("make tiny runs the pipeline end to end and a second make resumes instead of restarting", async () => {
  const out = join(await Deno.makeTempDir(), "build");
  const first = await make(["tiny", `OUT=${out}`, ...SHORT]);
  assert.equal(first.code, 0, first.stderr);
  const evaluation = JSON.parse(await Deno.readTextFile(join(out, "eval.json")));
  assert.ok(JSON.stringify(evaluation).includes("routed"), "eval.json has the routed row");
  await Deno.stat(join(out, "report", "report.md"));
  for (const c of ["en", "fr", "de", "py"]) await Deno.stat(join(out, "experts", c, "latest"));

  const again = await make(["tiny", `OUT=${out}`, ...SHORT]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to be done|is up to date/);

  // A teacher whose sentinel is gone (a killed make) continues its run; nothing after it reruns.
  await Deno.remove(join(out, "teacher", ".done"));
  const resumed = await make(["tiny", `OUT=${out}`, ...SHORT]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, / train [^\n]*\\\n\s*--resume/);
  assert.doesNotMatch(resumed.stdout, /distill cache/);
});
