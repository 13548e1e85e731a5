/**
 * Shared pieces of the command line that `core/` may use too: error classes and exit codes,
 * atomic output and what `--force` may replace, progress reporting.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./atomic.ts";
export * from "./safe_replace.ts";
export * from "./progress.ts";
export * from "./os_error.ts";
export * from "./signals.ts";
