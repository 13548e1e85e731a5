/**
 * Helpers of the fault-injection suite (issue #15): a tiny training on the fixture shards run as
 * the real `moe` command line, started and stopped from outside (SIGKILL, SIGTERM), and a
 * fingerprint of a folder to show that a refused command changed no file.
 *
 * @module
 */
import { join, relative } from "node:path";
import { sha256File } from "../../core/data/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * The flags of a tiny, bit-exact training: the `tiny` model, 4 rows of 32 tokens, CPU with one
 * thread, a checkpoint every step (so a kill loses at most one), evaluation every 5 steps.
 */
export function tinyTrain(data: string, out: string, steps: number): string[] {
  return [
    "train",
    "--data",
    data,
    "--out",
    out,
    "--config",
    "tiny",
    "--steps",
    String(steps),
    "--batch",
    "4",
    "--seq-len",
    "32",
    "--lr",
    "3e-3",
    "--warmup",
    "2",
    "--eval-every",
    "5",
    "--eval-rows",
    "8",
    "--checkpoint-every",
    "1",
    ...CPU,
  ];
}

/** The backend flags of every run here: the results are bit-exact on them. */
export const CPU = ["--backend", "cpu", "--threads", "1"];

/** Starts `moe …args` with stdout and stderr piped. */
export function spawnMoe(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Polls `ready` every few milliseconds until it holds (true) or the child exits (false). The
 * assertions never depend on how long this takes: only where the child is stopped does.
 */
export async function until(child: Deno.ChildProcess, ready: () => Promise<boolean>) {
  let exited = false;
  child.status.then(() => exited = true);
  while (!exited) {
    if (await ready()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** What a stopped child printed and returned. */
export async function finish(
  child: Deno.ChildProcess,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** The records of `out/metrics.jsonl` without wall-clock fields; [] when there is none. */
export async function curve(out: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(out, "metrics.jsonl")).catch(() => "");
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const { tokens_per_s: _, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

/** The train steps logged so far (a line cut short by a kill is skipped). */
export async function loggedSteps(out: string): Promise<number> {
  const text = await Deno.readTextFile(join(out, "metrics.jsonl")).catch(() => "");
  return text.split("\n").filter((l) => l.includes('"event":"train"') && l.endsWith("}")).length;
}

/** Every file under `dir` (relative path → sha256): equal before and after = nothing changed. */
export async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const path = join(d, e.name);
      if (e.isDirectory) await walk(path);
      else out[relative(dir, path)] = await sha256File(path);
    }
  };
  await walk(dir);
  return out;
}

/** Names in `dir` (sorted), e.g. to find `.tmp-` leftovers or a `.lock`. */
export async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/** A seeded generator of integers in [0, n) (mulberry32): the same kill points every run. */
export function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
