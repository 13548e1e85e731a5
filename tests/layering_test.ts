/**
 * The layers of the source tree, enforced: every file imports only its own layer or lower ones,
 * no file imports itself back through others, nothing below `commands/` knows the command line,
 * no two files below `commands/` share a name, and no source file is over 400 lines.
 *
 *   core (engine, shared math) ← models ← pipeline ← studies ← commands ← bench, tools, main.ts
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Layer of each top-level source folder (or file), lowest first. */
const LAYERS: Record<string, number> = {
  core: 0,
  models: 1,
  pipeline: 2,
  studies: 3,
  commands: 4,
  bench: 5,
  tools: 5,
  "main.ts": 5,
};

/** npm packages of the command line: only `commands/` and above may import them. */
const CLI_PACKAGES = ["commander", "cli-progress"];

const MAX_LINES = 400;

/** Files at the root that any layer may read (the version in `deno.json`). */
const SHARED_DATA = ["deno.json"];

function layerOf(path: string): number | undefined {
  return SHARED_DATA.includes(path) ? 0 : LAYERS[path.split("/")[0]!];
}

const code = (source: string) => source.split("\n").filter((l) => !/^\s*\*/.test(l)).join("\n");

/**
 * The specifiers a TypeScript source imports: static and dynamic imports and re-exports. JSDoc
 * examples (lines starting with `*`) are not imports of the module.
 */
export function importsOf(source: string): string[] {
  const patterns = [
    /(?:^|[\s;}])(?:import|export)\s[^"'`;]*?\sfrom\s*["']([^"']+)["']/g,
    /(?:^|[\s;])import\s*["']([^"']+)["']/g,
    /import\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...code(source).matchAll(re)].map((m) => m[1]!));
}

/** The files a source starts as workers (`new URL(…, import.meta.url)`): used, not imported. */
export function workersOf(source: string): string[] {
  const re = /new URL\(\s*["'](\.[^"']*\.ts)["']\s*,\s*import\.meta\.url/g;
  return [...code(source).matchAll(re)].map((m) => m[1]!);
}

/**
 * What a file depends on: repository paths of the modules it imports and of the workers it
 * starts (these count for the layers, not for cycles: a worker runs in an isolate of its own),
 * and the npm packages it imports.
 */
interface FileImports {
  files: string[];
  workers?: string[];
  packages: string[];
}

function resolveImports(path: string, source: string): FileImports {
  const files: string[] = [], packages: string[] = [];
  for (const spec of importsOf(source)) {
    if (spec.startsWith(".")) files.push(normalize(join(dirname(path), spec)));
    else packages.push(spec.replace(/^npm:/, "").replace(/@[^/]*$/, ""));
  }
  const workers = workersOf(source).map((spec) => normalize(join(dirname(path), spec)));
  return { files, workers, packages };
}

/** What breaks the layering in a set of files (path → imports), one line each. */
export function layeringViolations(graph: Map<string, FileImports>): string[] {
  const problems: string[] = [];
  for (const [path, { files, workers = [], packages }] of graph) {
    const own = layerOf(path)!;
    for (const target of [...files, ...workers]) {
      const layer = layerOf(target);
      if (layer === undefined) problems.push(`${path} imports ${target}, outside the source tree`);
      else if (layer > own) problems.push(`${path} imports ${target}, a layer above it`);
    }
    if (own < LAYERS.commands!) {
      for (const p of packages.filter((p) => CLI_PACKAGES.includes(p))) {
        problems.push(`${path} imports "${p}", a command-line package`);
      }
    }
  }
  return problems;
}

/** Every import cycle (Tarjan's strongly connected components of more than one file). */
export function importCycles(graph: Map<string, FileImports>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.files ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

async function sourceFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) out.push(path);
    }
  };
  for (const top of Object.keys(LAYERS)) {
    if (top.endsWith(".ts")) out.push(top);
    else await walk(top);
  }
  return out.sort();
}

const paths = await sourceFiles();
const sources = new Map(
  await Promise.all(
    paths.map(async (p) => [p, await Deno.readTextFile(join(ROOT, p))] as const),
  ),
);
const graph = new Map(paths.map((p) => [p, resolveImports(p, sources.get(p)!)]));

Deno.test("the checks find an upward import, a command-line package and a cycle", () => {
  const toy = new Map<string, FileImports>([
    ["core/a.ts", { files: ["models/b.ts"], packages: ["cli-progress"] }],
    ["models/b.ts", { files: ["core/a.ts"], packages: [] }],
    ["commands/c.ts", { files: ["core/a.ts", "tests/x.ts"], packages: ["commander"] }],
  ]);
  assert.deepEqual(layeringViolations(toy), [
    "core/a.ts imports models/b.ts, a layer above it",
    'core/a.ts imports "cli-progress", a command-line package',
    "commands/c.ts imports tests/x.ts, outside the source tree",
  ]);
  assert.deepEqual(importCycles(toy), [["core/a.ts", "models/b.ts"]]);
  assert.deepEqual(
    importsOf([
      'import { x } from "./x.ts";',
      'export * from "../y.ts";',
      'import type {\n  Z,\n} from "./z.ts";',
      ' * import { doc } from "./doc.ts";',
      'const m = await import("./m.ts");',
      'import "./side.ts";',
    ].join("\n")).sort(),
    ["../y.ts", "./m.ts", "./side.ts", "./x.ts", "./z.ts"],
  );
  assert.deepEqual(workersOf('new Worker(new URL("./w.ts", import.meta.url).href);'), ["./w.ts"]);
});

Deno.test("every source file imports only its own layer or lower ones", () => {
  assert.ok(paths.length > 250, `only ${paths.length} source files found`);
  assert.deepEqual(layeringViolations(graph), []);
});

Deno.test("no import cycle between source files", () => {
  assert.deepEqual(importCycles(graph), []);
});

Deno.test("below commands/, no file constructs or imports the usage error", () => {
  const below = paths.filter((p) => layerOf(p)! < LAYERS.commands!);
  const offenders = below.filter((p) =>
    graph.get(p)!.files.some((f) => relative("commands", f).startsWith("_errors")) ||
    /\bnew UsageError\b/.test(sources.get(p)!)
  );
  assert.deepEqual(offenders, []);
});

Deno.test("no two files below commands/ share a name (mod.ts aside)", () => {
  const byName = new Map<string, string[]>();
  for (const p of paths.filter((p) => layerOf(p)! < LAYERS.commands!)) {
    const name = p.split("/").at(-1)!;
    if (name !== "mod.ts") byName.set(name, [...(byName.get(name) ?? []), p]);
  }
  assert.deepEqual([...byName.values()].filter((ps) => ps.length > 1), []);
});

Deno.test(`no source file is over ${MAX_LINES} lines`, () => {
  const long = paths
    .map((p) => [p, sources.get(p)!.split("\n").length - 1] as const)
    .filter(([, n]) => n > MAX_LINES);
  assert.deepEqual(long, []);
});
