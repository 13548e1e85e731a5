import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { InvalidRequest } from "../../../core/job/mod.ts";
import {
  assertReplaceable,
  isMoeOutput,
  OUTPUT_MARKER,
  type ReplaceOptions,
  writeOutputMarker,
} from "../../../core/files/mod.ts";

const DIR: ReplaceOptions = { kind: "dir" };

/** Asserts that `assertReplaceable` refuses with a one-line invalid request matching `why`. */
async function refused(path: string, options: ReplaceOptions, why: RegExp): Promise<void> {
  const error = await assertReplaceable(path, options).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof InvalidRequest, `"${path}" was not refused`);
  assert.match(error.message, /^Cannot replace "/);
  assert.match(error.message, why);
  assert.ok(error.message.includes(`"${path}"`), error.message);
  assert.ok(!error.message.includes("\n"), error.message);
}

/** A temporary folder holding `files` (relative path → content). */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir();
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(root, rel)), { recursive: true });
    await Deno.writeTextFile(join(root, rel), text);
  }
  return root;
}

Deno.test("writeOutputMarker() writes the format, version and command", async () => {
  const dir = await Deno.makeTempDir();
  await writeOutputMarker(dir, "balance");
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, OUTPUT_MARKER))), {
    format: "moe-output",
    version: 1,
    command: "balance",
  });
});

Deno.test("assertReplaceable() allows a missing path, an empty folder and a marked folder", async () => {
  const root = await Deno.makeTempDir();
  await assertReplaceable(join(root, "missing"), DIR);
  await assertReplaceable(join(root, "missing"), { kind: "file" });
  await Deno.mkdir(join(root, "empty"));
  await assertReplaceable(join(root, "empty"), DIR);
  await Deno.mkdir(join(root, "marked"));
  await Deno.writeTextFile(join(root, "marked", "data.txt"), "x");
  await writeOutputMarker(join(root, "marked"), "balance");
  await assertReplaceable(join(root, "marked"), DIR);
});

Deno.test("assertReplaceable() refuses a non-empty folder moe did not write", async () => {
  const root = await tree({ "notes.txt": "mine" });
  await refused(root, DIR, /it is not empty and moe did not write it \(no \.moe-output\)/);
  const corrupt = await tree({ [OUTPUT_MARKER]: "{", "notes.txt": "mine" });
  await refused(corrupt, DIR, /moe did not write it/);
});

Deno.test("assertReplaceable() recognises the folders earlier versions of moe wrote", async () => {
  const recognised: Record<string, string>[] = [
    { "manifest.json": '{"format":"moe-balanced-dataset"}' },
    { "manifest.json": '{"format":"moe-token-shards"}' },
    { "manifest.json": '{"format":"moe-bundle"}' },
    { "manifest.json": '{"format":"moe-teacher-cache"}' },
    { "config.json": '{"format":"moe-gpt"}', "model.onnx": "" },
    { "experiment.json": '{"experiment":"forgetting","params":{}}' },
    { "latest": "step-000020\n", "step-000020/config.json": "{}" },
    { "metrics.jsonl": '{"event":"train","step":1,"loss":5}\n' },
    { "metrics.jsonl": "" },
    { ".lock": '{"pid":1234,"host":"lab-1","since":"2025-01-01T00:00:00Z","processStart":1}\n' },
  ];
  for (const files of recognised) {
    const dir = await tree({ ...files, "extra.txt": "x" });
    assert.ok(await isMoeOutput(dir), JSON.stringify(files));
    await assertReplaceable(dir, DIR);
  }
  const foreign: Record<string, string>[] = [
    { "manifest.json": '{"format":"webapp"}' },
    { "manifest.json": "not json" },
    { "config.json": '{"model_type":"gpt2"}', "model.safetensors": "" },
    { "experiment.json": '{"name":"my study"}' },
    { "latest": "yesterday\n" },
    { "metrics.jsonl": '{"epoch":1,"acc":0.9}\n' },
    { ".lock": "" },
  ];
  for (const files of foreign) {
    const dir = await tree(files);
    assert.ok(!(await isMoeOutput(dir)), JSON.stringify(files));
    await refused(dir, DIR, /moe did not write it/);
  }
});

Deno.test("assertReplaceable() refuses the current folder and its ancestors, however named", async () => {
  // Checks only: assertReplaceable never deletes anything, so the real working folder is safe.
  await refused(".", DIR, /it is the current folder$/);
  await refused("fixtures/..", DIR, /\("[^"]+"\): it is the current folder$/);
  await refused(Deno.cwd(), DIR, /it is the current folder$/);
  await refused("..", DIR, /it holds the current folder$/);
  await refused(dirname(Deno.cwd()), DIR, /it holds the current folder$/);
});

Deno.test("assertReplaceable() refuses / and the home folder", async () => {
  await refused("/", DIR, /it is the root folder$/);
  const home = Deno.env.get("HOME");
  if (home !== undefined && home !== "/") await refused(home, DIR, /it is the home folder$/);
});

Deno.test("assertReplaceable() refuses an input and every folder holding one, even marked", async () => {
  const root = await tree({ "corpus/en.jsonl": "{}", "corpus/sub/fr.jsonl": "{}" });
  await writeOutputMarker(join(root, "corpus"), "balance");
  await writeOutputMarker(root, "balance");
  const en = join(root, "corpus", "en.jsonl");
  const fr = join(root, "corpus", "sub", "fr.jsonl");
  const inputs = [undefined, join(root, "no-such-input"), en, join(root, "corpus", "sub")];
  await refused(join(root, "corpus"), { kind: "dir", inputs }, /it holds the input ".*en.jsonl"$/);
  await refused(root, { kind: "dir", inputs }, /it holds the input/);
  await refused(join(root, "corpus", "sub"), { kind: "dir", inputs }, /it is the input ".*sub"$/);
  // Through ".." and a relative input path.
  const rel = relative(Deno.cwd(), fr);
  await refused(`${root}/corpus/sub/..`, { kind: "dir", inputs: [rel] }, /holds the input/);
  // An input that does not exist has nothing to lose.
  await assertReplaceable(join(root, "corpus"), { kind: "dir", inputs: ["tiny"] });
});

Deno.test("assertReplaceable() follows symbolic links to what they name", async () => {
  const root = await tree({ "user/notes.txt": "mine", "out/data.txt": "x", "in/en.jsonl": "{}" });
  await writeOutputMarker(join(root, "out"), "export");
  await Deno.symlink(join(root, "user"), join(root, "to-user"));
  await Deno.symlink(join(root, "out"), join(root, "to-out"));
  await Deno.symlink(Deno.cwd(), join(root, "to-cwd"));
  await Deno.symlink(join(root, "in"), join(root, "to-in"));
  await Deno.symlink(join(root, "gone"), join(root, "dangling"));
  await refused(join(root, "to-user"), DIR, /\(".*user"\): it is not empty and moe did not/);
  await refused(join(root, "to-cwd"), DIR, /it is the current folder$/);
  await assertReplaceable(join(root, "to-out"), DIR);
  await assertReplaceable(join(root, "dangling"), DIR);
  // An input given through a link is protected as what it names.
  await writeOutputMarker(join(root, "in"), "balance");
  const inputs = [join(root, "to-in", "en.jsonl")];
  await refused(join(root, "in"), { kind: "dir", inputs }, /it holds the input/);
});

Deno.test("assertReplaceable() refuses a marked folder named through a trailing '..'", async () => {
  const root = await tree({ "out/sub/x": "1" });
  await writeOutputMarker(join(root, "out"), "balance");
  await refused(`${root}/out/sub/..`, DIR, /it ends in "\.\.": name the output folder/);
});

Deno.test("assertReplaceable() refuses a file where a folder is written and the reverse", async () => {
  const root = await tree({ "tok.json": "{}", "in.txt": "x", "marked/data": "x" });
  await writeOutputMarker(join(root, "marked"), "balance");
  await refused(join(root, "tok.json"), DIR, /it is a file, not an output folder/);
  await assertReplaceable(join(root, "tok.json"), { kind: "file" });
  await refused(join(root, "marked"), { kind: "file" }, /it is a folder, and only a file/);
  await refused(".", { kind: "file" }, /it is a folder/);
  const input = join(root, "in.txt");
  await refused(input, { kind: "file", inputs: [input] }, /it is the input/);
  await Deno.symlink(join(root, "tok.json"), join(root, "tok-link.json"));
  await assertReplaceable(join(root, "tok-link.json"), { kind: "file" });
});
