/**
 * How every command runs: one place that turns thrown errors into one clear line on stderr and the
 * right exit code (0 ok, 1 failure, 2 usage, 130 interrupted), and prints `--json` results.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { exitCodeOf, UsageError } from "../core/cli/mod.ts";

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
  const message = error instanceof Error ? error.message : String(error);
  console.error(`moe: ${message}`);
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  Deno.exit(exitCodeOf(error));
}

/** Prints a value as pretty JSON on stdout (the `--json` output of every command). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A commander argument parser for a number within [min, max]; bad values are usage errors. */
export function numberIn(min: number, max: number, integer = false): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (
      value.trim() === "" || !Number.isFinite(n) || n < min || n > max ||
      (integer && !Number.isInteger(n))
    ) {
      throw new InvalidArgumentError(
        `expected ${integer ? "an integer" : "a number"} in [${min}, ${max}]`,
      );
    }
    return n;
  };
}

/** Adds the options every command has (`--json`, `--debug`) and the exit-code behaviour. */
export function standardCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--json", "print machine-readable JSON on stdout")
    .option("--debug", "print stack traces on errors");
}

/**
 * Parses argv with commander and exits 2 on usage errors (commander itself would exit 1).
 *
 * @param program The assembled command tree.
 * @param argv Arguments without the executable and script (Deno.args).
 */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help";
      Deno.exit(ok ? 0 : 2);
    }
    reportAndExit(error instanceof UsageError ? error : error, argv.includes("--debug"));
  }
}
