/**
 * A sub-run in its own process: how an experiment runs independent sub-runs side by side and
 * still reproduces bit for bit. One process per sub-run, each on one thread, so that two
 * sub-runs never share onnxruntime's thread pool (whose parallel reductions can change the
 * order of float additions from one run to the next) and the same seed gives the same numbers
 * in any other process.
 *
 * The parent (the experiment's runner) starts the child with the command line a
 * {@linkcode SubRunLauncher} gives (the commands layer knows it), forwards SIGINT/SIGTERM to it
 * (children run in their own process group, so a Ctrl-C reaches them once, through the parent),
 * passes its `moe: …` lines on, and turns its exit status into the sub-run's status. The child
 * ({@linkcode runSubRunHere}) reads the experiment's parameters from `experiment.json`, locks the
 * sub-run's directory and runs the one job.
 *
 * @module
 */
import { Interrupted, type StopRequest, type StopSignal } from "../core/job/mod.ts";
import { lockRun } from "../pipeline/training/mod.ts";
import type { Experiment, ExperimentEnv } from "./experiment.ts";
import { subRunDir } from "./sub_run_dir.ts";

/** Which sub-run a child runs. */
export interface SubRunRef {
  /** The experiment directory (holds `experiment.json`). */
  out: string;
  name: string;
  seed: number;
  /** Whether an earlier attempt left the directory behind (the job continues it). */
  retry: boolean;
}

/** The command line of a child that runs one sub-run (built by the commands layer). */
export interface SubRunLauncher {
  command(ref: SubRunRef): { program: string; args: string[] };
}

/** Exit codes of a child stopped by a forwarded signal. */
const STOPPED: Readonly<Record<number, StopSignal>> = { 130: "SIGINT", 143: "SIGTERM" };

/**
 * Runs one sub-run in a child process and waits for it.
 *
 * @param launcher The child's command line.
 * @param ref The sub-run.
 * @param env `stop` (forwarded to the child as its signal), `notice` (the child's `moe:` lines,
 *   prefixed with the sub-run).
 * @throws {Interrupted} When the child stopped on a forwarded signal (exit 130 or 143).
 * @throws {Error} When it failed: its last `moe:` line, or its exit code.
 */
export async function runInChild(
  launcher: SubRunLauncher,
  ref: SubRunRef,
  env: { stop?: StopRequest; notice?: (line: string) => void },
): Promise<void> {
  const { program, args } = launcher.command(ref);
  const child = new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    // Its own process group: a terminal's Ctrl-C reaches it once, forwarded by this process.
    detached: true,
    env: { NO_COLOR: "1" },
  }).spawn();
  let forwarded = false;
  const forward = () => {
    if (forwarded || !env.stop?.requested) return;
    forwarded = true;
    try {
      child.kill(env.stop.signal ?? "SIGINT");
    } catch { /* it has just exited */ }
  };
  // Polled, not a signal listener: the innermost listener is the experiment's own stop handler.
  const timer = setInterval(forward, 200);
  const key = `${ref.name}/seed-${ref.seed}`;
  let last = "";
  try {
    for await (const line of lines(child.stderr)) {
      if (line.trim() === "") continue;
      last = line.replace(/^moe: /, "");
      env.notice?.(`${key}: ${last}`);
    }
    const { code } = await child.status;
    if (code === 0) return;
    const signal = STOPPED[code];
    if (signal) throw new Interrupted(last || `Stopped by ${signal}`, signal);
    throw new Error(last || `the sub-run's process exited with code ${code}`);
  } finally {
    clearInterval(timer);
  }
}

/** The lines of a byte stream (the last one without its newline). */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

/**
 * The child's side: runs sub-run `ref.name` of `ref.seed` of the experiment in `ref.out`, under
 * the sub-run directory's lock.
 *
 * @param exp The experiment (`experiment.json` names it).
 * @param params Its parameters as saved in `experiment.json`.
 * @param ref The sub-run.
 * @param env Backend, stop flag, notices.
 * @throws {RangeError} If the experiment has no such sub-run.
 * @throws {RunLocked} If another process writes the sub-run.
 */
export async function runSubRunHere<P>(
  exp: Experiment<P>,
  params: P,
  ref: SubRunRef,
  env: ExperimentEnv,
  onStaleLock?: (line: string) => void,
): Promise<void> {
  const subs = exp.subRuns(params, ref.seed);
  const sub = subs.find((s) => s.name === ref.name);
  if (!sub) {
    throw new RangeError(
      `Experiment "${exp.name}" has no sub-run "${ref.name}" (it has ${
        subs.map((s) => s.name).join(", ")
      })`,
    );
  }
  const dir = subRunDir(ref.out, ref.name, ref.seed);
  const lock = await lockRun(dir, onStaleLock);
  try {
    await sub.run(dir, {
      seed: ref.seed,
      retry: ref.retry,
      dirOf: (name) => subRunDir(ref.out, name, ref.seed),
      env,
    });
  } finally {
    lock.release();
  }
}
