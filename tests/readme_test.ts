/**
 * The README teaches by command lines, so they must run as written. Every `moe` line of the
 * README's ```sh blocks runs, in order, in a temporary folder that sees the repository's
 * `fixtures/` (the tutorial writes under `work/`, which lands there); training lines get a few
 * optimizer steps appended (commander keeps the last `--steps`), and experiments are only parsed.
 * The `moe` lines of docs/*.md, whose paths are examples, are parsed by the real command tree with
 * every action replaced by a no-op: an unknown flag, a value outside its choices or a missing
 * argument fails. Links must stay inside the repository and the README short.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { moeProgram } from "../main.ts";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DOCS = ["docs/commands.md", "docs/benchmarks.md", "docs/design.md"];

/** One shell command line of a ```sh block: its words, and what an `echo … |` before it prints. */
interface ShellLine {
  file: string;
  text: string;
  words: string[];
  stdin: string | null;
}

/**
 * Splits a POSIX shell line into words: single and double quotes, backslash escapes, a `#` comment
 * at the start of a word; an unquoted `|` becomes its own word.
 */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let text = "";
      for (i++; line[i] !== '"'; i++) {
        if (line[i] === "\\" && /["\\$`]/.test(line[i + 1] ?? "")) i++;
        text += line[i];
      }
      word = (word ?? "") + text;
    } else if (ch === "\\") {
      word = (word ?? "") + line[++i];
    } else if (ch === " " || ch === "\t" || ch === "|") {
      if (word !== null) words.push(word);
      word = null;
      if (ch === "|") words.push("|");
    } else if (ch === "#" && word === null) {
      break;
    } else {
      word = (word ?? "") + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The command lines of a Markdown file's ```sh blocks, continuation lines joined. */
function shellLines(file: string, markdown: string): ShellLine[] {
  const lines: ShellLine[] = [];
  for (const [, body] of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const text of body!.replaceAll("\\\n", " ").split("\n")) {
      const words = shellWords(text);
      const pipe = words.indexOf("|");
      const stdin = pipe > 0 && words[0] === "echo" ? words.slice(1, pipe).join(" ") : null;
      const command = pipe >= 0 ? words.slice(pipe + 1) : words;
      if (command.length > 0) lines.push({ file, text: text.trim(), words: command, stdin });
    }
  }
  return lines;
}

/** The `moe` lines of a file, as argv without `moe`. */
async function moeLines(file: string): Promise<ShellLine[]> {
  const text = await Deno.readTextFile(join(ROOT, file));
  return shellLines(file, text).filter((l) => l.words[0] === "moe");
}

/**
 * Parses `args` with the real command tree, every action a no-op: returns commander's message when
 * the line is not a valid `moe` command line, null when it is.
 */
async function parseError(args: string[]): Promise<string | null> {
  const program = moeProgram();
  let message = "";
  const quiet = (cmd: Command) => {
    cmd.exitOverride().allowExcessArguments(false).action(() => {}).configureOutput({
      writeOut: () => {},
      writeErr: (text) => message += text,
      outputError: (text) => message += text,
    });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return null;
  } catch (error) {
    if (error instanceof Error && "exitCode" in error && error.exitCode === 0) return null;
    return message.trim() || String(error);
  }
}

/** The subcommand path of a `moe` argv: `["distill", "cache"]`, `["train"]`. */
function commandPath(args: string[]): string[] {
  const path: string[] = [];
  let cmd: Command = moeProgram();
  for (const word of args) {
    const sub = cmd.commands.find((c) => c.name() === word);
    if (sub === undefined) break;
    path.push(word);
    cmd = sub;
  }
  return path;
}

const TRAINING = new Set(["train", "distill", "train-moe"]);

/** How a README line is checked: run as written, run with few steps, or parsed only. */
function plan(args: string[]): { run: boolean; args: string[] } {
  const path = commandPath(args).join(" ");
  if (path.startsWith("experiment")) return { run: false, args };
  if (TRAINING.has(path)) {
    // A resumed run must go past the step it stopped at (2).
    return { run: true, args: [...args, "--steps", args.includes("--resume") ? "4" : "2"] };
  }
  return { run: true, args };
}

Deno.test("every moe line of the README's sh blocks runs as written on the fixtures", async () => {
  const lines = await moeLines("README.md");
  assert.ok(lines.length >= 25, `only ${lines.length} moe lines found`);
  const work = await Deno.makeTempDir({ prefix: "moe-readme-" });
  await Deno.symlink(join(ROOT, "fixtures"), join(work, "fixtures"));
  const ran: string[] = [];
  try {
    for (const line of lines) {
      const step = plan(line.words.slice(1));
      const parsed = await parseError(step.args);
      assert.equal(parsed, null, `README: "${line.text}" is not a valid command line: ${parsed}`);
      if (!step.run) continue;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "main.ts"), ...step.args],
        cwd: work,
        stdin: line.stdin === null ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (line.stdin !== null) {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(`${line.stdin}\n`));
        await writer.close();
      }
      const { code, stderr } = await child.output();
      const message = new TextDecoder().decode(stderr).trim();
      assert.equal(code, 0, `README: "${line.text}" exited ${code}: ${message}`);
      ran.push(line.text);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  const fixtureLines = lines.filter((l) => l.text.includes("fixtures/")).map((l) => l.text);
  assert.ok(fixtureLines.length >= 8, "the README's fixture lines were found");
  for (const text of fixtureLines) assert.ok(ran.includes(text), `"${text}" was not run`);
});

Deno.test("every moe line of docs/*.md's sh blocks is a valid command line", async () => {
  for (const file of DOCS) {
    for (const line of await moeLines(file)) {
      const error = await parseError(line.words.slice(1));
      assert.equal(error, null, `${file}: "${line.text}" is not a valid command line: ${error}`);
    }
  }
});

Deno.test("every deno task of the README and docs/*.md exists in deno.json", async () => {
  const tasks = Object.keys(denoJson.tasks);
  for (const file of ["README.md", ...DOCS]) {
    const text = await Deno.readTextFile(join(ROOT, file));
    for (const line of shellLines(file, text)) {
      const at = line.words.indexOf("task");
      if (at < 0 || !/deno/.test(line.words[at - 1] ?? "")) continue;
      const task = line.words[at + 1]!;
      assert.ok(tasks.includes(task), `${file}: "${line.text}": no task "${task}" in deno.json`);
    }
  }
});

/** GitHub's heading anchor: lower case, punctuation dropped, each space a hyphen. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

Deno.test("README.md and docs/*.md link only inside the repository, to files and headings that exist", async () => {
  for (const file of ["README.md", ...DOCS]) {
    const text = await Deno.readTextFile(join(ROOT, file));
    assert.ok(!text.includes("../"), `${file} names a path outside the repository ("../")`);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      assert.ok(!/^[a-z]+:/.test(target!), `${file}: link outside the repository: ${target}`);
      const [path, hash] = target!.split("#");
      const linked = path === "" ? join(ROOT, file) : join(ROOT, dirname(file), path!);
      const body = await Deno.readTextFile(linked).catch(() => null);
      assert.ok(body !== null, `${file}: link to a missing file: ${target}`);
      if (hash === undefined) continue;
      const anchors = [...body.matchAll(/^#+ (.*)$/gm)].map(([, h]) => anchor(h!));
      assert.ok(anchors.includes(hash), `${file}: link to a missing heading: ${target}`);
    }
  }
});

Deno.test("README.md stays short enough to read in ten minutes", async () => {
  const { size } = await Deno.stat(join(ROOT, "README.md"));
  assert.ok(size < 30_000, `README.md is ${size} bytes; move detail to docs/`);
});
