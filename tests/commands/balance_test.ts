import assert from "node:assert/strict";
import { moe } from "../_support/cli.ts";

const INPUTS = ["en", "fr", "de", "py"].flatMap((
  c,
) => ["--input", `${c}=fixtures/corpus/${c}.jsonl.gz`]);

Deno.test("moe balance --json writes the dataset and prints its manifest", async () => {
  const out = `${await Deno.makeTempDir()}/data`;
  const { code, stdout, stderr } = await moe(["balance", ...INPUTS, "--out", out, "--json"]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const manifest = JSON.parse(stdout);
  assert.deepEqual(manifest.classes, ["en", "fr", "de", "py"]);
  assert.deepEqual(manifest.command.slice(0, 2), ["moe", "balance"]);
  assert.deepEqual(
    JSON.parse(await Deno.readTextFile(`${out}/manifest.json`)).files,
    manifest.files,
  );
});

Deno.test("moe balance refuses to overwrite an existing output without --force", async () => {
  const out = await Deno.makeTempDir();
  const { code, stderr } = await moe(["balance", ...INPUTS, "--out", out]);
  assert.equal(code, 1);
  assert.match(stderr, /already exists \(use --force/);
});

Deno.test("moe balance exits 2 with one line on bad usage", async () => {
  for (
    const args of [
      ["balance", "--bogus"],
      ["balance", "--input", "en", "--out", "x"],
      ["balance", ...INPUTS, "--out", "x", "--split", "0.5,0.6,0"],
      ["balance", ...INPUTS, "--out", "x", "--by", "words"],
      ["balance", ...INPUTS, "--out", "x", "--by", "tokens"],
      ["balance", ...INPUTS, "--out", "x", "--target", "-3"],
    ]
  ) {
    const { code, stderr } = await moe(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.ok(stderr.trim().length > 0);
  }
});

Deno.test("moe balance exits 1 naming the file for bad data and leaves no output behind", async () => {
  const dir = await Deno.makeTempDir();
  const bad = `${dir}/bad.jsonl`;
  await Deno.writeTextFile(bad, '{"text":"fine"}\n{"text":\n');
  for (
    const [input, pattern] of [
      [`en=${dir}/missing.jsonl`, `Cannot read "${dir}/missing.jsonl": no such file`],
      [`en=${bad}`, `Cannot read "${bad}:2": malformed JSON`],
    ]
  ) {
    const { code, stderr } = await moe(["balance", "--input", input!, "--out", `${dir}/out`]);
    assert.equal(code, 1);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.ok(stderr.includes(pattern!), stderr);
  }
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["bad.jsonl"]);
});

Deno.test("moe balance interrupted by SIGINT leaves no partial output directory", async () => {
  const dir = await Deno.makeTempDir();
  // A large enough input that the run is still going when the signal arrives.
  const big = `${dir}/big.jsonl`;
  const line = JSON.stringify({ text: "word ".repeat(200) });
  await Deno.writeTextFile(
    big,
    Array.from({ length: 60000 }, (_, i) => line.replace("word", `w${i}`)).join("\n"),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "balance", "--input", `a=${big}`, "--out", `${dir}/out`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Wait until the temporary directory exists, then interrupt.
  for (
    let i = 0;
    i < 400 && ![...Deno.readDirSync(dir)].some((e) => e.name.startsWith(".out.tmp"));
    i++
  ) {
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill("SIGINT");
  const { code } = await child.output();
  assert.equal(code, 130);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["big.jsonl"]);
});

Deno.test("moe --help lists balance and moe balance --help ends with examples", async () => {
  const top = await moe(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /balance/);
  const sub = await moe(["balance", "--help"]);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /Examples:\n\s+moe balance --input/);
});
