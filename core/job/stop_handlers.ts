/**
 * Who is told when the process is asked to stop (SIGINT, SIGTERM). The command line listens for
 * the signals (`commands/_stop_signals.ts`) and asks the innermost handler registered here what to
 * do: a training loop lets the current step finish and checkpoints (`finish`), an atomic writer
 * removes its temporary folder and says what it left (`exit`). Exit codes and the printed line
 * are the command line's.
 *
 * @module
 */
import type { StopSignal } from "./stop.ts";

/** What a job answers when asked to stop. */
export type StopReply =
  /** The job stops by itself after its current unit of work. */
  | { action: "finish" }
  /** Stop the process now; `left` says what the job left behind (printed after the signal). */
  | { action: "exit"; left?: string };

/** Told which signal arrived; answers how the job stops. */
export type StopHandler = (signal: StopSignal) => StopReply;

const handlers: StopHandler[] = [];

/**
 * Makes `handler` the one asked about SIGINT/SIGTERM until the returned function is called; the
 * handler that was innermost before is asked again afterwards.
 *
 * @param handler Told which signal arrived; answers how the job stops.
 * @returns Removes the handler.
 *
 * @example
 * ```ts
 * import { innermostStopHandler, onStopSignal } from "./stop_handlers.ts";
 * const remove = onStopSignal(() => ({ action: "finish" }));
 * console.assert(innermostStopHandler()?.("SIGTERM").action === "finish");
 * remove();
 * console.assert(innermostStopHandler() === undefined);
 * ```
 */
export function onStopSignal(handler: StopHandler): () => void {
  handlers.push(handler);
  return () => {
    const at = handlers.lastIndexOf(handler);
    if (at >= 0) handlers.splice(at, 1);
  };
}

/** The handler registered last and not yet removed, if any. */
export function innermostStopHandler(): StopHandler | undefined {
  return handlers.at(-1);
}
