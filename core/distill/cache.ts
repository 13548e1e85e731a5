/**
 * The teacher logit cache: the teacher runs once over the train shards and keeps, for every
 * position, its k most likely next tokens and their log-probabilities at temperature τ; every
 * expert then distils from the cache without loading the teacher. The rest of the distribution
 * is one bucket of mass `1 − Σ p_top`, so the KL on the (k + 1)-bucket support is exact
 * (`forwardKLTopK` / `reverseKLTopK` in `core/losses`).
 *
 * Layout of a cache directory:
 *
 * - `manifest.json`: format, version, the teacher's fingerprint, the tokenizer's, the shards it
 *   covers (class, tokens, windows), the window length T, k, τ and the id type;
 * - `train/CLASS.topk`: one record per window `w` of the class's train shard (tokens `w·T …
 *   w·T + T`, exactly the windows `BatchSampler` draws): `T·k` ids (uint16 when the vocabulary
 *   fits, else uint32), then `T·k` log-probabilities as float16, position-major.
 *
 * Float16 keeps 3 significant digits of log p, far below the noise of a training step, and
 * halves the file. Size per million positions: `k · (id bytes + 2)` MB (k 32, uint16: 128 MB).
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { type Progress, silentProgress, withAtomicDir } from "../cli/mod.ts";
import { encode, Graph, logSoftmax, mul, topK } from "../graph/mod.ts";
import type { Backend } from "../runtime/mod.ts";
import { checkJson, finite, integer, name, parseJsonText, type SameType } from "../schema/mod.ts";
import { openTokenData } from "../training/mod.ts";
import { declareGPTParams, gptHidden, headWeight, lmHead } from "../../models/gpt.ts";
import { checkSameTokenizer, type Teacher, type TokenizerId } from "./teacher.ts";

/** Format name of `manifest.json`. */
export const CACHE_FORMAT = "moe-teacher-cache";
/** Version of the layout above. */
export const CACHE_VERSION = 1;

/** `manifest.json` of a cache. */
export interface CacheManifest {
  format: typeof CACHE_FORMAT;
  version: number;
  teacher: { source: string; fingerprint: string; step: number };
  tokenizer: TokenizerId;
  /** The token shard directory the cache was built from. */
  tokens: string;
  /** Window length T. */
  seqLen: number;
  topK: number;
  temperature: number;
  idType: "uint16" | "uint32";
  /** Per class: tokens in its train shard and windows cached. */
  classes: Record<string, { tokens: number; windows: number }>;
  /** Total bytes of the record files. */
  bytes: number;
}

/** What `manifest.json` must hold; format and version are checked first, for their message. */
const cacheManifestSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  version: z.number(),
  teacher: z.object({ source: z.string(), fingerprint: z.string(), step: integer(0) }),
  tokenizer: z.object({ fingerprint: z.string(), vocabSize: integer(2) }),
  tokens: z.string(),
  seqLen: integer(1),
  topK: integer(1),
  temperature: finite({ min: 0, open: "min" }),
  idType: z.enum(["uint16", "uint32"]),
  classes: z.record(name, z.object({ tokens: integer(0), windows: integer(0) })),
  bytes: integer(0),
});

// Compile-time check that the schema and the CacheManifest interface describe the same fields.
const _sameFields: SameType<z.output<typeof cacheManifestSchema>, CacheManifest> = true;

/** How to build a cache. */
export interface BuildCacheOptions {
  teacher: Teacher;
  /** Token shard directory (encoded with the teacher's tokenizer). */
  data: string;
  /** Classes to cache (default: all of the shards'). */
  classes?: readonly string[];
  /** Window length (default: the teacher's context). */
  seqLen?: number;
  topK: number;
  temperature: number;
  /** Windows per teacher run. */
  batch: number;
  backend: Backend;
  out: string;
  /** Replace an existing cache at `out`. */
  replace?: boolean;
  progress?: Progress;
}

/**
 * Runs the teacher over every train window of the chosen classes and writes the cache
 * atomically (nothing is left at `out` on failure).
 *
 * @returns The manifest written.
 * @throws {RangeError} If the tokenizers differ, a class has no shard, k exceeds the vocabulary,
 *   or the window exceeds the teacher's context.
 */
export async function buildTeacherCache(o: BuildCacheOptions): Promise<CacheManifest> {
  const cfg = o.teacher.config.model;
  const T = o.seqLen ?? cfg.contextLength;
  if (!Number.isInteger(o.topK) || o.topK < 1 || o.topK > cfg.vocabSize) {
    throw new RangeError(`Invalid top-k ${o.topK}: expected 1 … ${cfg.vocabSize}`);
  }
  if (T > cfg.contextLength) {
    throw new RangeError(`Invalid window ${T}: the teacher's context is ${cfg.contextLength}`);
  }
  const data = await openTokenData(o.data, cfg.vocabSize, T);
  try {
    checkSameTokenizer(
      { ...o.teacher.config.tokenizer, source: o.teacher.dir },
      { ...data.manifest.tokenizer, source: o.data },
    );
    const classes = o.classes ?? data.classes;
    for (const c of classes) {
      if (!data.train.has(c)) {
        throw new RangeError(
          `Cannot cache class "${c}": "${o.data}" has no such class (it has ${
            data.classes.join(", ")
          })`,
        );
      }
    }
    const B = o.batch, k = o.topK;
    const session = await o.backend.createSession(topKGraph(o.teacher, B, T, k, o.temperature));
    const idType = cfg.vocabSize <= 65536 ? "uint16" : "uint32";
    const manifest: CacheManifest = {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      teacher: {
        source: o.teacher.dir,
        fingerprint: o.teacher.fingerprint,
        step: o.teacher.config.trainer.step,
      },
      tokenizer: {
        fingerprint: data.manifest.tokenizer.fingerprint,
        vocabSize: data.manifest.tokenizer.vocabSize,
      },
      tokens: o.data,
      seqLen: T,
      topK: k,
      temperature: o.temperature,
      idType,
      classes: {},
      bytes: 0,
    };
    const progress = o.progress ?? silentProgress;
    const windowsOf = (c: string) => Math.floor((data.train.get(c)!.header.tokens - 1) / T);
    const total = classes.reduce((s, c) => s + windowsOf(c) * T, 0);
    try {
      await withAtomicDir(o.out, async (tmp) => {
        await Deno.mkdir(join(tmp, "train"));
        progress.start(total, "teacher");
        let done = 0;
        for (const c of classes) {
          const shard = data.train.get(c)!, W = windowsOf(c);
          const file = await Deno.open(join(tmp, "train", `${c}.topk`), {
            write: true,
            create: true,
          });
          try {
            for (let first = 0; first < W; first += B) {
              const n = Math.min(B, W - first);
              const span = await shard.read(first * T, n * T);
              const tokens = new BigInt64Array(B * T); // rows past n stay 0: computed, not kept
              for (let i = 0; i < n * T; i++) tokens[i] = BigInt(span[i]!);
              const out = await session.run({
                tokens: session.wrap({ dtype: "int64", dims: [B, T], data: tokens }),
              });
              const logp = (await session.download(out.top_logp!)).data as Float32Array;
              const ids = (await session.download(out.top_ids!)).data as BigInt64Array;
              session.release(out.top_logp!);
              session.release(out.top_ids!);
              for (let r = 0; r < n; r++) {
                const at = r * T * k;
                const record = encodeRecord(
                  ids.subarray(at, at + T * k),
                  logp.subarray(at, at + T * k),
                  idType,
                );
                await writeAll(file, record);
                manifest.bytes += record.byteLength;
              }
              done += n * T;
              progress.update(done);
            }
          } finally {
            file.close();
          }
          manifest.classes[c] = { tokens: shard.header.tokens, windows: W };
        }
        progress.stop();
        await Deno.writeTextFile(
          join(tmp, "manifest.json"),
          JSON.stringify(manifest, null, 2) + "\n",
        );
      }, {
        replace: o.replace ?? false,
        inputs: [o.data, o.teacher.dir],
        command: "distill cache",
      });
    } finally {
      await session.dispose();
    }
    return manifest;
  } finally {
    data.close();
  }
}

/** The teacher forward with log-softmax at τ and top-k fused in: no `[N, V]` leaves the backend. */
function topKGraph(teacher: Teacher, B: number, T: number, k: number, tau: number): Uint8Array {
  const cfg = teacher.config.model;
  const g = new Graph("teacher.topk");
  const tokens = g.input("tokens", "int64", [B, T]);
  const p = declareGPTParams(g, cfg, { values: teacher.values });
  const logits = lmHead(gptHidden(g, cfg, tokens, p), headWeight(cfg, p)); // [B·T, V]
  const [values, indices] = topK(logSoftmax(mul(logits, 1 / tau), -1), k); // 2 × [B·T, k]
  g.output(values, "top_logp");
  g.output(indices, "top_ids");
  return encode(g, { parameters: "initializers", values: teacher.values });
}

function encodeRecord(
  ids: BigInt64Array,
  logp: Float32Array,
  idType: "uint16" | "uint32",
): Uint8Array {
  const idBytes = idType === "uint16" ? 2 : 4;
  const out = new Uint8Array(ids.length * (idBytes + 2));
  const idView = idType === "uint16"
    ? new Uint16Array(out.buffer, 0, ids.length)
    : new Uint32Array(out.buffer, 0, ids.length);
  for (let i = 0; i < ids.length; i++) idView[i] = Number(ids[i]);
  new Float16Array(out.buffer, ids.length * idBytes, ids.length).set(logp);
  return out;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
}

/** The top-k of a batch, ready to feed: `[B·T, k]` ids and log-probabilities. */
export interface TopKBatch {
  ids: BigInt64Array;
  logProbs: Float32Array;
}

/** An open cache. */
export interface TeacherCache {
  dir: string;
  manifest: CacheManifest;
  /** Reads the records of the given rows (class and window of each, as `Batch` carries them). */
  read(classes: readonly string[], windows: readonly number[]): Promise<TopKBatch>;
  close(): void;
}

/**
 * Opens a cache and checks its files.
 *
 * @param dir The cache directory.
 * @returns The open cache.
 * @throws {SyntaxError} If `manifest.json` is missing, not JSON, of another format or version, or
 *   a field is missing, of the wrong type or out of range, or a record file's size disagrees with
 *   it; the message names the file (and the field).
 *
 * @example
 * ```ts
 * import { openTeacherCache } from "./cache.ts";
 * const error = await openTeacherCache(await Deno.makeTempDir()).catch((e) => String(e));
 * console.assert(String(error).includes("manifest.json"));
 * ```
 */
export async function openTeacherCache(dir: string): Promise<TeacherCache> {
  const path = join(dir, "manifest.json");
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null) {
    throw new SyntaxError(`Cannot open teacher cache "${dir}": no manifest.json there`);
  }
  const raw = parseJsonText(text, "teacher cache manifest", path) as Partial<CacheManifest> | null;
  if (raw?.format !== CACHE_FORMAT || raw.version !== CACHE_VERSION) {
    throw new SyntaxError(
      `Cannot open teacher cache "${path}": format ${JSON.stringify(raw?.format)} version ${
        JSON.stringify(raw?.version)
      }, expected ${CACHE_FORMAT} version ${CACHE_VERSION}`,
    );
  }
  const manifest = checkJson(cacheManifestSchema, raw, "teacher cache manifest", path);
  const { seqLen: T, topK: k } = manifest;
  const idBytes = manifest.idType === "uint16" ? 2 : 4;
  const recordBytes = T * k * (idBytes + 2);
  const files = new Map<string, Deno.FsFile>();
  const close = () => files.forEach((f) => f.close());
  try {
    for (const [c, { windows }] of Object.entries(manifest.classes)) {
      const file = join(dir, "train", `${c}.topk`);
      const size = (await Deno.stat(file).catch(() => null))?.size;
      if (size !== windows * recordBytes) {
        throw new SyntaxError(
          `Cannot open teacher cache "${file}": ${
            size === undefined ? "missing" : `${size} bytes`
          }, expected ${windows} windows × ${recordBytes} bytes`,
        );
      }
      files.set(c, await Deno.open(file, { read: true }));
    }
  } catch (error) {
    close();
    throw error;
  }
  const read = async (classes: readonly string[], windows: readonly number[]) => {
    const n = classes.length * T * k;
    const ids = new BigInt64Array(n), logProbs = new Float32Array(n);
    const record = new Uint8Array(recordBytes);
    for (let r = 0; r < classes.length; r++) {
      const file = files.get(classes[r]!);
      if (!file) throw new RangeError(`The teacher cache "${dir}" has no class "${classes[r]}"`);
      await file.seek(windows[r]! * recordBytes, Deno.SeekMode.Start);
      for (let at = 0; at < recordBytes;) {
        const got = await file.read(record.subarray(at));
        if (got === null) throw new SyntaxError(`Teacher cache "${dir}" is truncated`);
        at += got;
      }
      const idView = idBytes === 2
        ? new Uint16Array(record.buffer, 0, T * k)
        : new Uint32Array(record.buffer, 0, T * k);
      for (let i = 0; i < T * k; i++) ids[r * T * k + i] = BigInt(idView[i]!);
      logProbs.set(new Float16Array(record.buffer, T * k * idBytes, T * k), r * T * k);
    }
    return { ids, logProbs };
  };
  return { dir, manifest, read, close };
}

/**
 * Refuses a cache that was not built from these shards and this teacher.
 *
 * @param cache The open cache.
 * @param expected The shards' tokenizer and tokens per class; the teacher's fingerprint when a
 *   teacher is given too.
 * @throws {RangeError} Naming the cache and what differs.
 */
export function checkCacheFits(
  cache: TeacherCache,
  expected: {
    tokenizer: TokenizerId;
    tokens: Record<string, number>;
    teacherFingerprint?: string;
  },
): void {
  const m = cache.manifest;
  const fail = (what: string) => {
    throw new RangeError(`Cannot distil from the teacher cache "${cache.dir}": ${what}`);
  };
  if (m.tokenizer.fingerprint !== expected.tokenizer.fingerprint) {
    fail(
      `it was built with another tokenizer (fingerprint ${
        m.tokenizer.fingerprint.slice(0, 12)
      }…, the data's is ${expected.tokenizer.fingerprint.slice(0, 12)}…)`,
    );
  }
  if (
    expected.teacherFingerprint !== undefined &&
    expected.teacherFingerprint !== m.teacher.fingerprint
  ) {
    fail(`it was built from another teacher ("${m.teacher.source}", step ${m.teacher.step})`);
  }
  for (const [c, tokens] of Object.entries(expected.tokens)) {
    const entry = m.classes[c];
    if (!entry) fail(`it has no class "${c}" (it has ${Object.keys(m.classes).join(", ")})`);
    if (entry!.tokens !== tokens) {
      fail(`its "${c}" shard had ${entry!.tokens} tokens, the data's has ${tokens}`);
    }
  }
}
