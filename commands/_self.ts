/**
 * The command line that runs `moe` again in a child process: `deno run -A main.ts …` under
 * Deno, or the binary itself when `moe` was built with `deno task compile`.
 *
 * @module
 */
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Deno flags every `moe` process runs with (the tasks, the installed launcher and the compiled
 * binary set them too): `gc` for training steps with large state (core/runtime/training_step.ts).
 */
export const RUNTIME_FLAGS = ["--v8-flags=--expose-gc"];

/**
 * The program and arguments of `moe …args` in a child process.
 *
 * @param args Arguments after `moe`.
 * @returns What `Deno.Command` runs.
 *
 * @example
 * ```ts
 * import { selfCommand } from "./_self.ts";
 * const { args } = selfCommand(["--version"]);
 * console.assert(args.at(-1) === "--version");
 * ```
 */
export function selfCommand(args: string[]): { program: string; args: string[] } {
  const program = Deno.execPath();
  const underDeno = basename(program).replace(/\.exe$/, "") === "deno";
  return underDeno
    ? { program, args: ["run", "-A", ...RUNTIME_FLAGS, fileURLToPath(Deno.mainModule), ...args] }
    : { program, args };
}
