/**
 * How every command runs: one place that turns thrown errors into one clear line on stderr and the
 * right exit code (0 ok, 1 failure, 2 usage, 130 interrupted), and prints `--json` results.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { CLI_SPELLING, exitCodeOf } from "./_errors.ts";
import { installStopSignals } from "./_stop_signals.ts";
import { describeOsErrors } from "../core/files/mod.ts";
import { SpelledError } from "../core/job/mod.ts";
import { type Backend, openBackend, runtimeConfig } from "../core/runtime/mod.ts";

/** Options every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
}

/**
 * Wraps a command's action: errors become `moe: <message>` and an exit code; `--debug` adds the
 * stack trace.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      reportAndExit(error, Deno.args.includes("--debug"));
    }
  };
}

function reportAndExit(error: unknown, debug: boolean): never {
  // Code below commands/ names settings as the API does; the user sees flags.
  const message = error instanceof SpelledError
    ? error.describe(CLI_SPELLING)
    : error instanceof Error
    ? error.message
    : String(error);
  // Deno's `No such file or directory (os error 2): readfile 'x'` → `Cannot read "x": no such …`.
  console.error(`moe: ${describeOsErrors(message)}`);
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  Deno.exit(exitCodeOf(error));
}

/** Prints a value as pretty JSON on stdout (the `--json` output of every command). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Adds the options every command has (`--json`, `--debug`) and the exit-code behaviour. */
export function standardCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--json", "print machine-readable JSON on stdout")
    .option("--debug", "print stack traces on errors");
}

/**
 * Parses argv with commander. Commander's own errors (unknown flag or command, missing or extra
 * argument, a value outside `.choices()`) print one line and exit 2; `--help`, `help` and
 * `--version` exit 0; help printed because the command line stopped short (bare `moe`,
 * `moe tokenizer`) goes to stderr and exits 2.
 *
 * @param program The assembled command tree.
 * @param argv Arguments without the executable and script (Deno.args).
 */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  const configure = (cmd: Command) => {
    cmd.exitOverride().allowExcessArguments(false).configureOutput({
      outputError: (message, write) => write(usageLine(message, cmd)),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  installStopSignals(); // a command without its own handler still stops with one line
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    // Commander has already printed its line or the help: only the exit code is left to choose.
    // Its exit code is 0 for help and version asked for, 1 for everything else (usage: our 2).
    if (error instanceof CommanderError) Deno.exit(error.exitCode === 0 ? 0 : 2);
    reportAndExit(error, argv.includes("--debug"));
  }
}

/**
 * Commander's `error: unknown option '--bogus'\n(Did you mean --bob?)` as the house's one line:
 * `moe: Unknown option '--bogus' (Did you mean --bob?) (see "moe balance --help")`.
 */
function usageLine(message: string, cmd: Command): string {
  const text = message.trim().replace(/^error: /, "").split("\n").map((l) => l.trim()).join(" ")
    .replace(/\.$/, "");
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  return `moe: ${text.charAt(0).toUpperCase()}${text.slice(1)} (see "${path.join(" ")} --help")\n`;
}

/** Help text for `--backend`. */
export const BACKEND_HELP =
  "execution backend: auto (hardware WebGPU, else cpu, else wasm), webgpu, cpu or wasm";

/** Help text for `--threads`. */
export const THREADS_HELP = "host threads for the cpu and wasm backends (default: all cores)";

/**
 * Opens the backend `--backend`/`--threads` ask for and tells the user, once on stderr, anything
 * about the choice they should know: that an explicit `webgpu` runs on a software adapter
 * (always), and on a terminal what `auto` skipped and why.
 *
 * @param flags The command's `--backend` and `--threads`.
 * @returns The backend, and what `--json` records of it.
 */
export async function openCommandBackend(
  flags: { backend?: string | undefined; threads?: string | undefined },
): Promise<
  { backend: Backend; used: { name: string; description: string; notice: string | null } }
> {
  const runtime = runtimeConfig(flags);
  const { backend, notice } = await openBackend(runtime.backend, { threads: runtime.threads });
  // A warning is always shown; why `auto` chose what it chose only on a terminal, as progress is.
  const show = notice !== null && (notice.startsWith("warning:") || Deno.stderr.isTerminal());
  if (show) console.error(`moe: ${notice}`);
  return { backend, used: { name: backend.name, description: backend.description, notice } };
}
