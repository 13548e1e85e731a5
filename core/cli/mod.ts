/**
 * Shared pieces of the command line that `core/` may use too: error classes and exit codes,
 * atomic output, progress reporting.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./atomic.ts";
export * from "./progress.ts";
