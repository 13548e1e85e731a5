/**
 * The result type every benchmark returns, and its printing. `ours` and `reference` are in
 * `unit`; `ratio` is ours/reference oriented so that > 1 means we are better (the benchmark says
 * which way in its metric name and unit).
 *
 * @module
 */

/** One measured figure, side by side with the reference where one exists on this machine. */
export interface BenchResult {
  metric: string;
  unit: string;
  ours: number;
  reference: number | null;
  ratio: number | null;
}

/** A benchmark module: `bench/<name>.ts` exports `run`. */
export interface Benchmark {
  run(args: string[]): Promise<BenchResult[]>;
}

/** Formats results as an aligned text table. */
export function formatTable(results: BenchResult[]): string {
  const fmt = (x: number | null) => (x === null ? "—" : Number(x.toPrecision(4)).toString());
  const rows = results.map((
    r,
  ) => [
    r.metric,
    r.unit,
    fmt(r.ours),
    fmt(r.reference),
    r.ratio === null ? "—" : `${fmt(r.ratio)}×`,
  ]);
  const all = [["metric", "unit", "ours", "reference", "ratio"], ...rows];
  const widths = all[0]!.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  return all.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")).join("\n");
}

/** The ratio ours/reference, or null without a reference. */
export function ratio(ours: number, reference: number | null): number | null {
  return reference === null || reference === 0 ? null : ours / reference;
}
