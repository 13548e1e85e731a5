/**
 * Timing a whole process: wall seconds and peak resident memory (VmHWM from /proc, polled), so
 * our commands and reference tools are measured the same way.
 *
 * @module
 */

/** Wall time and peak RSS of one finished process. */
export interface ProcessCost {
  seconds: number;
  peakMB: number;
}

/**
 * Runs `cmd args` with stdout discarded and stderr shown, and measures it.
 *
 * @throws {Error} If the process exits non-zero.
 */
export async function timedProcess(cmd: string, args: string[]): Promise<ProcessCost> {
  const start = performance.now();
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "inherit" })
    .spawn();
  let peakKB = 0;
  const poll = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKB = Math.max(peakKB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch { /* exited between polls */ }
  }, 50);
  const { code } = await child.status;
  clearInterval(poll);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${code}`);
  return { seconds: (performance.now() - start) / 1000, peakMB: peakKB / 1024 };
}

/** This process's peak resident memory so far, in MB (VmHWM from /proc; NaN where there is none). */
export function peakRssMB(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return Number(hwm ?? NaN) / 1024;
}
