/**
 * Building the teacher logit cache (layout in `cache.ts`): the teacher runs once over every
 * train window of the chosen classes, its top-k log-probabilities at τ computed on the backend,
 * and the records and manifest are written atomically.
 *
 * @module
 */
import { join } from "node:path";
import { withAtomicDir } from "../../core/files/mod.ts";
import { type Progress, silentProgress } from "../../core/job/mod.ts";
import { encode, Graph, logSoftmax, mul, topK } from "../../core/graph/mod.ts";
import type { Backend, Session } from "../../core/runtime/mod.ts";
import type { TokenShard } from "../../core/tokenizer/mod.ts";
import { openTokenData, type TokenData } from "../training/mod.ts";
import { declareGPTParams, gptHidden, headWeight, lmHead } from "../../models/gpt.ts";
import { CACHE_FORMAT, CACHE_VERSION, type CacheManifest } from "./cache.ts";
import { checkSameTokenizer, type Teacher } from "./teacher.ts";

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
    const classes = cachedClasses(o, data);
    const B = o.batch, k = o.topK;
    const session = await o.backend.createSession(topKGraph(o.teacher, B, T, k, o.temperature));
    const manifest = newManifest(o, data, T);
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
            const geometry = { windows: W, batch: B, seqLen: T, topK: k };
            manifest.bytes += await writeClassRecords(
              session,
              shard,
              file,
              geometry,
              manifest.idType,
              (n) => progress.update(done += n),
            );
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

/** The classes to cache, after checking that the shards use the teacher's tokenizer and have them. */
function cachedClasses(o: BuildCacheOptions, data: TokenData): readonly string[] {
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
  return classes;
}

/** The manifest of a cache about to be built, with no class cached yet. */
function newManifest(o: BuildCacheOptions, data: TokenData, T: number): CacheManifest {
  return {
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
    topK: o.topK,
    temperature: o.temperature,
    idType: o.teacher.config.model.vocabSize <= 65536 ? "uint16" : "uint32",
    classes: {},
    bytes: 0,
  };
}

/**
 * Runs the teacher over the first `windows` windows of a shard, `batch` at a time, and appends
 * one record per window to `file`.
 *
 * @param progress Told the positions done after each batch.
 * @returns The bytes written.
 */
async function writeClassRecords(
  session: Session,
  shard: TokenShard,
  file: Deno.FsFile,
  geometry: { windows: number; batch: number; seqLen: number; topK: number },
  idType: "uint16" | "uint32",
  progress: (positions: number) => void,
): Promise<number> {
  const { windows: W, batch: B, seqLen: T, topK: k } = geometry;
  let bytes = 0;
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
      bytes += record.byteLength;
    }
    progress(n * T);
  }
  return bytes;
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
