/**
 * `--force` on dangerous outputs (issue #15): every refusal exits 2 with one line and leaves every
 * file as it was; output `moe` wrote is replaced; two writers racing into one `--out` cannot both
 * win. The commands run in a throw-away project folder, never in the repository.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const FIXTURES = new URL("../../fixtures/", import.meta.url).pathname;
const BALANCE = [
  "balance",
  "--input",
  "en=corpus/en.jsonl.gz",
  "--input",
  "fr=corpus/fr.jsonl.gz",
];

// The child gets its own HOME; Deno's cache must stay where it is, or it would download again
// (into that HOME).
const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir as string;

/** Every entry under `root` (files by sha256, links by target, folders by name). */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name), key = rel + e.name;
      if (e.isSymlink) out[key] = `link → ${await Deno.readLink(path)}`;
      else if (e.isDirectory) {
        out[key] = "folder";
        await walk(path, key + "/");
      } else {
        const hash = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
        out[key] = Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join(
          "",
        );
      }
    }
  };
  await walk(root, "");
  return out;
}

/**
 * A project folder to run in: two small corpora (in `corpus/`, marked as if `moe` had written
 * it, so that only the input rule protects it), notes, a sub-folder, a folder of the user's and a
 * link to the project itself; plus a home folder of its own.
 */
async function project(): Promise<{ root: string; home: string; env: Record<string, string> }> {
  const root = await Deno.makeTempDir({ prefix: "moe-force-" });
  await Deno.mkdir(join(root, "corpus"));
  for (const c of ["en", "fr"]) {
    await Deno.copyFile(
      join(FIXTURES, "ood", `${c}-gimp-help.jsonl.gz`),
      join(root, "corpus", `${c}.jsonl.gz`),
    );
  }
  await Deno.writeTextFile(join(root, "corpus", ".moe-output"), '{"format":"moe-output"}\n');
  await Deno.writeTextFile(join(root, "notes.txt"), "my notes\n");
  await Deno.mkdir(join(root, "sub"));
  await Deno.writeTextFile(join(root, "sub", "keep.txt"), "keep\n");
  await Deno.mkdir(join(root, "mine"));
  await Deno.writeTextFile(join(root, "mine", "thesis.tex"), "\\documentclass{article}\n");
  await Deno.symlink(root, join(root, "here"));
  const home = await Deno.makeTempDir({ prefix: "moe-home-" });
  await Deno.writeTextFile(join(home, ".profile"), "export X=1\n");
  return { root, home, env: { HOME: home, DENO_DIR } };
}

/** Runs `moe args` in `root` and asserts exit 2, one line matching `why`, and nothing changed. */
async function assertRefused(
  p: { root: string; home: string; env: Record<string, string> },
  args: string[],
  why: RegExp,
): Promise<void> {
  const before = [await snapshot(p.root), await snapshot(p.home)];
  const { code, stderr } = await moe(args, undefined, { cwd: p.root, env: p.env });
  const shown = `moe ${args.join(" ")}: ${stderr}`;
  assert.equal(code, 2, shown);
  assert.equal(stderr.trim().split("\n").length, 1, shown);
  assert.match(stderr, /^moe: Cannot replace "/, shown);
  assert.match(stderr, why, shown);
  assert.deepEqual([await snapshot(p.root), await snapshot(p.home)], before, shown);
}

Deno.test("moe balance --force refuses every dangerous --out: exit 2, one line, nothing touched", async () => {
  const p = await project();
  const cases: [string, RegExp][] = [
    [".", /"\." \(".*moe-force-\w+"\): it is the current folder$/m],
    ["sub/..", /"sub\/\.\." \(".*moe-force-\w+"\): it is the current folder$/m],
    ["here", /"here" \(".*"\): it is the current folder$/m],
    ["..", /it holds the (current|home) folder$/m], // the home folder is in /tmp too
    ["corpus", /"corpus" \(".*"\): it holds the input "corpus\/en\.jsonl\.gz"$/m],
    [p.home, /it is the home folder$/m],
    ["/", /"\/": it is the root folder$/m],
    ["mine", /"mine" \(".*"\): it is not empty and moe did not write it \(no \.moe-output\)/],
    ["notes.txt", /"notes\.txt" \(".*"\): it is a file, not an output folder moe wrote$/m],
  ];
  for (const [out, why] of cases) {
    await assertRefused(p, [...BALANCE, "--out", out, "--force"], why);
  }
});

Deno.test("every command with --force refuses the current folder and touches nothing", async () => {
  const p = await project();
  const { dir: shards } = await byteShards({ classes: ["en", "fr"], trainBytes: 4_000 });
  const here = ["--out", ".", "--force"];
  const commands = [
    ["tokenizer", "encode", "--tokenizer", "tok.json", "--data", "data", ...here],
    ["tokenizer", "train", "corpus/en.jsonl.gz", ...here],
    ["router", "train", "--input", "en=corpus/en.jsonl.gz", ...here],
    ["export", "--checkpoint", "runs/teacher", ...here],
    ["assemble", "--router", "router.json", "--expert", "en=runs/en", ...here],
    ["distill", "cache", "--teacher", "runs/teacher", "--data", "data", ...here],
    ["train", "--data", shards, "--config", "tiny", "--steps", "1", ...here],
    ["experiment", "forgetting", "--data", shards, ...here],
  ];
  for (const args of commands) {
    const file = args[0] === "router" || args[1] === "train" && args[0] === "tokenizer";
    await assertRefused(
      p,
      args,
      file ? /: it is a folder, and only a file is written here$/m : /: it is the current folder$/m,
    );
  }
});

Deno.test("moe balance --force replaces output moe wrote, the marker's or an earlier version's", async () => {
  const p = await project();
  const run = (...extra: string[]) =>
    moe([...BALANCE, "--out", "data", "--json", ...extra], undefined, { cwd: p.root, env: p.env });
  const first = await run();
  assert.equal(first.code, 0, first.stderr);
  const marker = JSON.parse(await Deno.readTextFile(join(p.root, "data", ".moe-output")));
  assert.deepEqual(marker, { format: "moe-output", version: 1, command: "balance" });
  // An output of a version before the marker: recognised by its manifest's format.
  await Deno.remove(join(p.root, "data", ".moe-output"));
  await Deno.writeTextFile(join(p.root, "data", "stale.txt"), "from the old run\n");
  const others = async () =>
    Object.fromEntries(
      Object.entries(await snapshot(p.root)).filter(([k]) => !k.startsWith("data")),
    );
  const before = await others();
  const again = await run("--force");
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await others(), before);
  const entries = (await Array.fromAsync(Deno.readDir(join(p.root, "data")), (e) => e.name)).sort();
  assert.deepEqual(entries, [".moe-output", "manifest.json", "test", "train", "val"]);
});

Deno.test("two moe balance racing into one --out: one wins, the other fails with one clear line", async () => {
  const p = await project();
  const args = [...BALANCE, "--out", "race", "--json"];
  const results = await Promise.all(
    [0, 1].map(() => moe(args, undefined, { cwd: p.root, env: p.env })),
  );
  const codes = results.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 1], results.map((r) => r.stderr).join("\n"));
  const loser = results.find((r) => r.code === 1)!;
  assert.equal(loser.stderr.trim().split("\n").length, 1, loser.stderr);
  // Which line depends on when the loser looked; neither is an OS error without a path.
  assert.match(
    loser.stderr,
    /^moe: Cannot write "race": (it already exists \(use --force|another process wrote it while this one ran)/,
  );
  const manifest = JSON.parse(await Deno.readTextFile(join(p.root, "race", "manifest.json")));
  assert.equal(manifest.format, "moe-balanced-dataset");
  const left = (await Array.fromAsync(Deno.readDir(p.root), (e) => e.name)).filter((n) =>
    n.startsWith(".race")
  );
  assert.deepEqual(left, [], "a temporary folder was left behind");
});

Deno.test("moe balance names the file that stands where a folder of --out should be", async () => {
  const p = await project();
  const { code, stderr } = await moe([...BALANCE, "--out", "notes.txt/data"], undefined, {
    cwd: p.root,
    env: p.env,
  });
  assert.equal(code, 1, stderr);
  assert.equal(stderr, 'moe: Cannot write "notes.txt/data": "notes.txt" is a file\n');
});
