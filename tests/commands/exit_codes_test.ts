/**
 * The exit-code table of every command (issue #15): bad usage exits 2 and bad data exits 1, each
 * with one line on stderr, and neither leaves an output behind. Usage errors fail before any work,
 * so each row costs one process start; rows run a few at a time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Command } from "commander";
import { moeProgram } from "../../main.ts";
import { loadTokenizer, saveTokenizer, ShardWriter } from "../../core/tokenizer/mod.ts";
import { moe } from "../_support/cli.ts";

/** One command line, what it must exit with and the one line it must print. */
interface Row {
  /** Arguments after `moe`, split on spaces; `{NAME}` stands for a path of {@linkcode paths}. */
  args: string;
  code: 1 | 2;
  /** What the line after `moe: ` must match. */
  message: RegExp;
}

const tmp = await Deno.makeTempDir({ prefix: "moe-exit-codes-" });

/** Files the rows refer to; `{OUT}` is a fresh path per row that must still not exist after it. */
const paths: Record<string, string> = {
  EN: "fixtures/corpus/en.jsonl.gz",
  FR: "fixtures/corpus/fr.jsonl.gz",
  MISSING: join(tmp, "missing"),
  EMPTY: join(tmp, "empty.jsonl"),
  BLANK: join(tmp, "blank.txt"),
  SMALL: join(tmp, "small.txt"),
  BIG: join(tmp, "big.txt"),
  TOK: join(tmp, "tok.json"),
  SHARD: join(tmp, "shard.bin"),
};

await Deno.writeTextFile(paths.EMPTY!, "");
await Deno.writeTextFile(paths.BLANK!, "\n\n\n");
// Five 23-character documents against twenty of 640 or more: with --target min (115 chars ± 1 %)
// no document of "big" fits.
await Deno.writeTextFile(
  paths.SMALL!,
  Array.from({ length: 5 }, (_, i) => `short document number ${i}`).join("\n\n"),
);
await Deno.writeTextFile(
  paths.BIG!,
  Array.from({ length: 20 }, (_, i) => `long document ${i} `.repeat(40)).join("\n\n"),
);
// A bytes-only tokenizer and a 12-token shard written with it.
await saveTokenizer(paths.TOK!, {
  byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
  merges: new Int32Array(),
  mergeIds: new Int32Array(),
  specials: [{ content: "<|endoftext|>", id: 256 }],
});
const tokenizer = await loadTokenizer(paths.TOK!);
const shard = await ShardWriter.create(paths.SHARD!, {
  vocabSize: tokenizer.vocabSize,
  eotId: 256,
  fingerprint: tokenizer.fingerprint,
});
await shard.writeDocument(tokenizer.encode("hello shard"));
await shard.close();

/** `Promise.all` over `items`, at most `limit` at a time (the CI machine has 2 cores). */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

let rowCount = 0;

/** Runs one row; returns what was wrong with it, or null. */
async function check(row: Row): Promise<string | null> {
  const out = join(tmp, `out-${rowCount++}`);
  const args = row.args.split(" ").map((arg) =>
    arg.replace(/\{(\w+)\}/g, (_, name: string) => name === "OUT" ? out : paths[name]!)
  );
  const r = await moe(args);
  const problems: string[] = [];
  if (r.code !== row.code) problems.push(`exit ${r.code}, not ${row.code}`);
  const lines = r.stderr.trimEnd().split("\n");
  if (lines.length !== 1) problems.push(`${lines.length} lines on stderr`);
  const match = /^moe: (.*)$/.exec(lines[0]!);
  if (!match || !row.message.test(match[1]!)) problems.push(`message not ${row.message}`);
  if (await Deno.lstat(out).then(() => true, () => false)) problems.push(`it wrote ${out}`);
  return problems.length === 0
    ? null
    : `moe ${row.args}: ${problems.join("; ")}\n  stderr: ${r.stderr.trimEnd()}`;
}

/** Checks every row, four processes at a time, and reports all failing rows at once. */
async function checkAll(rows: Row[]): Promise<void> {
  const failures = (await mapLimited(rows, 4, check)).filter((f) => f !== null);
  assert.deepEqual(failures, []);
}

const usage = (args: string, message: RegExp): Row => ({ args, code: 2, message });
const failure = (args: string, message: RegExp): Row => ({ args, code: 1, message });

Deno.test("bare moe and a group without its subcommand print help on stderr and exit 2", async () => {
  for (const args of [[], ["tokenizer"], ["router"], ["experiment"], ["help", "bogus"]]) {
    const r = await moe(args);
    assert.equal(r.code, 2, `moe ${args.join(" ")}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Usage: moe /);
  }
});

Deno.test("moe help, --help and --version exit 0 and print on stdout", async () => {
  for (const args of [["help"], ["--help"], ["help", "balance"], ["tokenizer", "decode", "-h"]]) {
    const r = await moe(args);
    assert.equal(r.code, 0, `moe ${args.join(" ")}`);
    assert.match(r.stdout, /^Usage: moe /);
    assert.equal(r.stderr, "");
  }
  const version = await moe(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

Deno.test("every command's help ends with example command lines of that command", () => {
  const walk = (cmd: Command, path: string[]): string[] => {
    let help = "";
    cmd.configureOutput({ writeOut: (s) => help += s, writeErr: (s) => help += s });
    cmd.outputHelp();
    // After "Examples:" only indented lines, one at least of them a command line of this command.
    const examples = help.trimEnd().split("\nExamples:\n")[1]?.split("\n") ?? [];
    const name = path.join(" ");
    const ok = examples.length > 0 && examples.every((l) => l.startsWith("  ")) &&
      examples.some((l) => l.startsWith(`  ${name} `) || l === `  ${name}`);
    return [
      ...(ok ? [] : [name]),
      ...cmd.commands.flatMap((c) => walk(c, [...path, c.name()])),
    ];
  };
  assert.deepEqual(walk(moeProgram(), ["moe"]), []);
});

Deno.test("commander's usage errors exit 2 with one line naming the command's help", async () => {
  await checkAll([
    usage("bogus", /^Unknown command 'bogus' \(see "moe --help"\)$/),
    usage("--bogus", /^Unknown option '--bogus'/),
    usage("tokenizer bogus", /^Unknown command 'bogus' \(see "moe tokenizer --help"\)$/),
    usage("report", /^Missing required argument 'METRICS' \(see "moe report --help"\)$/),
    usage("report a b", /^Too many arguments for 'report'/),
    usage("demo extra", /^Too many arguments for 'demo'/),
    usage("demo --out {OUT} --bogus", /^Unknown option '--bogus'/),
  ]);
});

Deno.test("moe balance: bad usage exits 2 and bad data exits 1, writing nothing", async () => {
  await checkAll([
    usage("balance --out {OUT}", /^Required option '-i, --input <CLASS=PATH>' not specified/),
    usage("balance --input en={EN}", /^Required option '-o, --out <DIR>' not specified/),
    usage("balance --input en --out {OUT}", /^Invalid --input "en": expected CLASS=PATH/),
    usage("balance --input en={EN} --out {OUT} --by words", /'words' is invalid.*chars, bytes/),
    usage("balance --input en={EN} --out {OUT} --by tokens", /^--by tokens needs --tokenizer/),
    usage("balance --input en={EN} --out {OUT} --target -3", /^Invalid --target "-3"/),
    usage("balance --input en={EN} --out {OUT} --target most", /^Invalid --target "most"/),
    usage("balance --input en={EN} --out {OUT} --split 0.5,0.6,0", /0\.5,0\.6,0/),
    usage("balance --input en={EN} --out {OUT} --max-diff-percent 2000", /\[0, 1000\]/),
    usage("balance --input en={EN} --out {OUT} --seed 1.5", /'1\.5' is invalid/),
    usage("balance --input en={EN} --out {OUT} extra", /^Too many arguments for 'balance'/),
    usage("balance --input en={EN} --out {OUT} --vocab-size 300", /^Unknown option/),
    failure(`balance --input en={MISSING} --out {OUT}`, /^Cannot read ".*missing": no such file/),
    failure("balance --input en={EMPTY} --out {OUT}", /^Class "en" is empty: .*empty\.jsonl"$/),
    failure(
      "balance --input small={SMALL} --input big={BIG} --split 1,0,0 --out {OUT}",
      new RegExp(
        '^Cannot balance class "big": it has \\d+ chars, but none of its 20 documents fits the ' +
          "target 115 chars \\+ 1 % \\(the smallest has 640 chars\\): allow it with " +
          "--max-diff-percent 457 or --target 640 or more$",
      ),
    ),
  ]);
});

Deno.test("moe tokenizer: bad usage exits 2 and bad data exits 1, writing nothing", async () => {
  await checkAll([
    usage("tokenizer train --out {OUT}", /^Missing required argument 'INPUT'/),
    usage("tokenizer train {EN}", /^Required option '-o, --out <FILE>'/),
    usage("tokenizer train {EN} --out {OUT} --vocab-size 257", /^Invalid --vocab-size 257/),
    usage("tokenizer train {EN} --out {OUT} --special <|x|>", /must include "<\|endoftext\|>"/),
    usage("tokenizer train {EN} --out {OUT} --threads 0", /'0' is invalid.*\[1, 256\]/),
    failure("tokenizer train {EMPTY} --out {OUT}", /^Cannot train .*empty\.jsonl": no text/),
    failure("tokenizer train {BLANK} {EMPTY} --out {OUT}", /blank\.txt", ".*empty\.jsonl": no/),
    failure("tokenizer train {MISSING} --out {OUT}", /"[^"]*missing"/),
    usage("tokenizer encode --data {EN} --out {OUT}", /^Required option '-t, --tokenizer/),
    usage("tokenizer encode --tokenizer {TOK} --data {EN}", /^encode needs --data DIR and --out/),
    usage("tokenizer encode --tokenizer {TOK} --text hi --out {OUT}", /--text TEXT or --data/),
    failure("tokenizer encode --tokenizer {MISSING} --text hi", /^Cannot load tokenizer ".*"/),
    usage("tokenizer decode 1 2", /^Required option '-t, --tokenizer/),
    usage("tokenizer decode --tokenizer {TOK}", /^decode needs IDS or --shard FILE$/),
    usage("tokenizer decode --tokenizer {TOK} --shard {SHARD} 1", /^Give IDS or --shard FILE, not/),
    usage("tokenizer decode --tokenizer {TOK} --start 3 1 2", /^--start needs --shard FILE/),
    usage("tokenizer decode --tokenizer {TOK} --count 3 1 2", /^--count needs --shard FILE/),
    usage("tokenizer decode --tokenizer {TOK} 1 x", /^Invalid id "x"/),
    usage(
      "tokenizer decode --tokenizer {TOK} --shard {SHARD} --start 12",
      /^Invalid --start 12: ".*shard\.bin" has 12 tokens \(0 to 11\)$/,
    ),
    usage("tokenizer decode --tokenizer {TOK} --data {EN} 1", /^Unknown option '--data'/),
    usage("tokenizer info --tokenizer {TOK} --split test", /^--split needs --data DIR/),
    usage("tokenizer info --tokenizer {TOK} --data {EN} --split dev", /'dev' is invalid/),
  ]);
});

Deno.test("moe router: bad usage exits 2 and bad data exits 1, writing nothing", async () => {
  await checkAll([
    usage("router train --data {EN}", /^Required option '-o, --out <FILE>'/),
    usage("router train --out {OUT}", /^Give the training data: --data DIR or --input/),
    usage("router train --data {EN} --input en={EN} --out {OUT}", /^Give either --data or/),
    usage("router train --input en --out {OUT}", /^Invalid --input "en"/),
    usage("router train --input en={EN} --out {OUT} --classifier svm", /'svm' is invalid/),
    usage("router train --input en={EN} --out {OUT} --min-length 90 --max-length 10", /above/),
    failure("router train --input en={MISSING} --out {OUT}", /"[^"]*missing"/),
    failure("router train --input en={EMPTY} --input fr={FR} --out {OUT}", /empty: en/),
    usage("router eval --model {MISSING}", /^Give exactly one of --data DIR, --jsonl/),
    usage("router eval --jsonl {EN}", /^Give --model FILE, or --compare with --train-data/),
    usage("router eval --compare --jsonl {EN}", /^--compare needs --train-data DIR/),
    usage("router eval --model {MISSING} --jsonl {EN} --split val", /^--split needs --data/),
    usage("router eval --model {MISSING} --data {EN} --split dev", /'dev' is invalid/),
    usage("router eval --model {MISSING} --jsonl {EN} --lengths 32,,128", /^Invalid --lengths/),
    usage("router eval --model {MISSING} --jsonl {EN} --train-data {EN}", /^--train-data needs/),
    usage("router eval --model {MISSING} --jsonl {EN} --min-confidence 2", /'2' is invalid/),
    failure("router eval --model {MISSING} --input en={EN}", /"[^"]*missing"/),
    usage("router route hi", /^Required option '-m, --model <FILE>'/),
    usage("router route --model {MISSING} --jsonl {EN} hi", /^Give texts as arguments or --jsonl/),
    usage("router route --model {MISSING} --split val hi", /^Unknown option '--split'/),
    failure("router route --model {MISSING} hi", /"[^"]*missing"/),
  ]);
});

Deno.test("training commands: bad usage exits 2 before any data is read", async () => {
  await checkAll([
    usage("train --data {MISSING}", /^Missing --out: the run directory$/),
    usage("train --out {OUT}", /^Missing --data: the token shard directory/),
    usage("train --data {MISSING} --out {OUT} --schedule random", /'random' is invalid/),
    usage("train --data {MISSING} --out {OUT} --decay step", /'step' is invalid/),
    usage("train --data {MISSING} --out {OUT} --lr -1", /'-1' is invalid/),
    usage("train --data {MISSING} --out {OUT} --backend gpu", /^Invalid --backend "gpu"/),
    usage("train --data {MISSING} --out {OUT} --threads 0", /^Invalid --threads "0"/),
    usage("train --data {MISSING} --out {OUT} --variant jeet", /^Unknown option '--variant'/),
    usage("train --out {OUT} --resume --force", /--force with --resume/),
    usage("train-moe --data {MISSING} --out {OUT} --variant ple", /'ple' is invalid/),
    usage("train-moe --data {MISSING} --out {OUT} --kd both", /'both' is invalid/),
    usage("distill --data {MISSING} --out {OUT}", /^Missing --teacher or --cache/),
    usage("distill --data {MISSING} --teacher {MISSING} --out {OUT} --kd both", /'both' is/),
    usage("distill --data {MISSING} --teacher {MISSING} --out {OUT} --schedule x", /'x' is/),
    usage("distill cache --teacher {MISSING} --data {MISSING}", /^Required option '-o, --out/),
    usage("distill cache --teacher {MISSING} --data {MISSING} --out {OUT} --top-k 0", /'0'/),
    usage("experiment forgetting --out {OUT}", /^Required option '--data <DIR>'/),
    usage("experiment forgetting --data {MISSING} --out {OUT} --scale huge", /'huge' is/),
    usage("experiment alpha --data {MISSING} --out {OUT} --kd both", /'both' is invalid/),
    usage("experiment moe-variants --data {MISSING} --out {OUT} --backend x", /"x"/),
  ]);
});

Deno.test("model commands: bad usage exits 2 and a missing model exits 1, writing nothing", async () => {
  await checkAll([
    usage("export --out {OUT}", /^Required option '--checkpoint <DIR>'/),
    usage("export --checkpoint {MISSING} --out {OUT} --format gguf", /'gguf' is invalid/),
    usage("export --checkpoint {MISSING} --out {OUT} --mix route", /^Unknown option '--mix'/),
    failure("export --checkpoint {MISSING} --out {OUT}", /"[^"]*missing"/),
    failure("report {MISSING}", /"[^"]*missing"/),
    usage("report {MISSING} --out {OUT} --force", /^Unknown option '--force'/),
    usage("assemble --out {OUT}", /^Required option '--router <FILE>'/),
    usage("assemble --router {MISSING} --out {OUT}", /^Give either --expert CLASS=DIR/),
    usage(
      "assemble --router {MISSING} --expert en={MISSING} --from-moe {MISSING} --out {OUT}",
      /^Give either --expert CLASS=DIR/,
    ),
    usage("assemble --router {MISSING} --expert en --out {OUT}", /^Invalid --expert "en"/),
    usage("assemble --router {MISSING} --from-moe {MISSING} --out {OUT} --min-confidence 2", /2/),
    failure("assemble --router {MISSING} --from-moe {MISSING} --out {OUT}", /"[^"]*missing"/),
    usage("eval --data {MISSING}", /^Missing required argument 'MODEL'/),
    usage(
      "eval {MISSING}",
      /^Invalid moe eval: give exactly one of --data \(per-class table\) and --text/,
    ),
    usage("eval {MISSING} --data {MISSING} --split bogus", /'bogus' is invalid.*train, val/),
    usage("eval {MISSING} --data {MISSING} --mix soft", /'soft' is invalid/),
    usage("eval {MISSING} --data {MISSING} --backend gpu", /^Invalid --backend "gpu"/),
    failure("eval {MISSING} --data {MISSING}", /"[^"]*missing"/),
    usage("generate", /^Missing required argument 'MODEL'/),
    usage("generate {MISSING} hi there", /^Too many arguments for 'generate'/),
    usage("generate {MISSING} hi --mix soft", /'soft' is invalid/),
    usage("generate {MISSING} hi --top-p 0", /^Invalid --top-p 0/),
    usage("generate {MISSING} hi --backend gpu", /^Invalid --backend "gpu"/),
    usage("generate {MISSING} hi --mix router --expert en", /^Invalid --expert with --mix router/),
    failure("generate {MISSING} hi", /"[^"]*missing"/),
  ]);
});
