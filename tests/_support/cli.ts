/**
 * Runs the real `moe` command line in a subprocess, for tests of exit codes and output.
 *
 * @module
 */

/** What a `moe` run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_NOTICE = /^(Download |Blocking waiting for file lock )/;

/**
 * Runs `moe ...args` with all permissions; stdout/stderr are pipes (so progress bars stay off).
 *
 * @param args Arguments after `moe`.
 * @param stdin Optional text fed on standard input.
 * @param options Working folder and environment variables of the child (default: this process's).
 */
export async function moe(
  args: string[],
  stdin?: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    ...options,
    // Plain text, so that Deno's own notices below are recognised.
    env: { NO_COLOR: "1", ...options.env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  // Deno's own notices (a first-run "Download https://…", "Blocking waiting for file lock on
  // node_modules directory" while another process installs) are not moe's output.
  const ours = decoder.decode(stderr).split("\n").filter((l) => !DENO_NOTICE.test(l)).join(
    "\n",
  );
  return { code, stdout: decoder.decode(stdout), stderr: ours };
}
