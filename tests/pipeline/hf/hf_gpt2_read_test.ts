import assert from "node:assert/strict";
import { join } from "node:path";
import { hfGpt2Names, isHfModelDir, readHfGpt2 } from "../../../pipeline/hf/mod.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  float32,
  type HostTensor,
} from "../../../core/runtime/mod.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const TINY = join(ROOT, "fixtures/hf/gpt2-tiny");
const SHARDED = join(ROOT, "fixtures/hf/gpt2-tiny-bf16-sharded");
const UNTIED = join(ROOT, "fixtures/hf/gpt2-gelu-untied-f16");

/** A copy of a fixture folder whose config.json and tensors the test may change. */
async function copyOf(
  fixture: string,
  change: {
    config?: (c: Record<string, unknown>) => void;
    tensors?: (t: Record<string, HostTensor>) => void;
  } = {},
): Promise<string> {
  const dir = join(await Deno.makeTempDir(), "model");
  await Deno.mkdir(dir);
  for await (const e of Deno.readDir(fixture)) {
    await Deno.copyFile(join(fixture, e.name), join(dir, e.name));
  }
  if (change.config) {
    const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    change.config(config);
    await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  }
  if (change.tensors) {
    const path = join(dir, "model.safetensors");
    const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path));
    change.tensors(tensors);
    await Deno.writeFile(path, encodeSafetensors(tensors, metadata));
  }
  return dir;
}

async function readError(dir: string): Promise<string> {
  return await readHfGpt2(dir).then(() => "read", (e: Error) => e.message);
}

Deno.test("readHfGpt2() reads the transformers fixtures as our GPT: shape, GELU, head, tokenizer", async () => {
  const tiny = await readHfGpt2(TINY);
  assert.deepEqual(tiny.model, {
    vocabSize: 1500,
    contextLength: 64,
    layers: 2,
    heads: 4,
    dModel: 32,
    layerNormEps: 1e-5,
    decayEmbeddings: true,
  });
  assert.deepEqual([...tiny.values.keys()], [...hfGpt2Names(tiny.model).values()]);
  assert.deepEqual(tiny.tokenizer.vocabSize, 1500);
  assert.equal(tiny.tokenizer.eotId, 0); // config.json's eos_token_id: <|endoftext|>
  assert.deepEqual(tiny.files, ["model.safetensors"]);

  const untied = await readHfGpt2(UNTIED);
  assert.equal(untied.model.activation, "gelu");
  assert.equal(untied.model.head, "untied");
  assert.deepEqual(untied.values.get("lm_head")!.length, 1500 * 32);
  assert.notDeepEqual(untied.values.get("lm_head"), untied.values.get("wte"));
  assert.equal(await isHfModelDir(UNTIED), true);
});

Deno.test("readHfGpt2() reads sharded bfloat16 weights as the float32 ones rounded to bfloat16", async () => {
  const [f32, bf16] = [await readHfGpt2(TINY), await readHfGpt2(SHARDED)];
  assert.deepEqual(bf16.files, [
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
  ]);
  assert.deepEqual(bf16.model, f32.model);
  let rounded = 0;
  for (const [name, exact] of f32.values) {
    const b = bf16.values.get(name)!;
    const bits = new Uint32Array(b.buffer, b.byteOffset, b.length);
    assert.ok(bits.every((x) => (x & 0xffff) === 0), `${name} holds a value bfloat16 cannot`);
    // Round to nearest: within half a unit of bfloat16's 8-bit significand.
    b.forEach((v, i) => assert.ok(Math.abs(v - exact[i]!) <= Math.abs(exact[i]!) * 2 ** -8, name));
    b.forEach((v, i) => rounded += v === exact[i] ? 0 : 1);
  }
  assert.ok(rounded > 0);
});

Deno.test("readHfGpt2() reads GPT2Model keys without the transformer. prefix and skips the attn.bias buffers", async () => {
  const dir = await copyOf(TINY, {
    tensors: (t) => {
      for (const key of Object.keys(t)) {
        t[key.replace(/^transformer\./, "")] = t[key]!;
        delete t[key];
      }
      // What transformers < 4.30 saved: each layer's causal mask and its fill value.
      t["h.0.attn.bias"] = float32(new Array(64 * 64).fill(1), [1, 1, 64, 64]);
      t["h.1.attn.masked_bias"] = float32([-1e4], []);
    },
  });
  assert.deepEqual((await readHfGpt2(dir)).values, (await readHfGpt2(TINY)).values);
});

Deno.test("readHfGpt2() accepts a tied model's copy of lm_head.weight and refuses a different one", async () => {
  const copy = await copyOf(TINY, {
    tensors: (t) => t["lm_head.weight"] = t["transformer.wte.weight"]!,
  });
  assert.equal((await readHfGpt2(copy)).values.has("lm_head"), false);
  const other = await copyOf(TINY, {
    tensors: (t) => {
      const wte = t["transformer.wte.weight"]!;
      t["lm_head.weight"] = float32((wte.data as Float32Array).map((v) => v * 2), wte.dims);
    },
  });
  assert.equal(
    await readError(other),
    `Cannot read Hugging Face model "${
      join(other, "model.safetensors")
    }": tensor "lm_head.weight" differs from the token embedding while config.json ties them (tie_word_embeddings true)`,
  );
});

Deno.test("readHfGpt2() refuses another model, a missing, unexpected or misshapen tensor, in one line", async () => {
  const weights = (dir: string) => join(dir, "model.safetensors");
  const config = (dir: string) => join(dir, "config.json");
  const cases: [Parameters<typeof copyOf>[1], (dir: string) => string][] = [
    [
      { config: (c) => c.model_type = "llama" },
      (d) =>
        `Cannot load Hugging Face config "${
          config(d)
        }": model_type "llama" is not supported (only gpt2)`,
    ],
    [
      { config: (c) => c.activation_function = "relu" },
      (d) =>
        `Cannot load Hugging Face config "${
          config(d)
        }": activation_function must be gelu_new, gelu_pytorch_tanh or gelu (the GELUs our GPT computes), got "relu"`,
    ],
    [
      { config: (c) => c.n_inner = 100 },
      (d) =>
        `Cannot load Hugging Face config "${
          config(d)
        }": n_inner must be null or 4 × n_embd (128), got 100`,
    ],
    [
      { config: (c) => c.scale_attn_by_inverse_layer_idx = true },
      (d) =>
        `Cannot load Hugging Face config "${
          config(d)
        }": scale_attn_by_inverse_layer_idx must be false (not supported), got true`,
    ],
    [
      { tensors: (t) => delete t["transformer.h.1.mlp.c_fc.bias"] },
      (d) =>
        `Cannot read Hugging Face model "${
          weights(d)
        }": tensor "transformer.h.1.mlp.c_fc.bias" is missing`,
    ],
    [
      {
        tensors: (t) => t["transformer.h.2.ln_1.weight"] = t["transformer.h.1.ln_1.weight"]!,
      },
      (d) =>
        `Cannot read Hugging Face model "${
          weights(d)
        }": tensor "transformer.h.2.ln_1.weight" is not a parameter of this GPT-2 (n_layer 2, tied head)`,
    ],
    [
      { config: (c) => c.n_positions = 128 },
      (d) =>
        `Cannot read Hugging Face model "${
          weights(d)
        }": tensor "transformer.wpe.weight" has shape [64, 32], config.json implies [128, 32]`,
    ],
    [
      {
        tensors: (t) => {
          const w = t["transformer.h.0.ln_2.bias"]!;
          t["transformer.h.0.ln_2.bias"] = {
            dtype: "float64",
            dims: w.dims,
            data: Float64Array.from(w.data as Float32Array),
          };
        },
      },
      (d) =>
        `Cannot read Hugging Face model "${
          weights(d)
        }": tensor "transformer.h.0.ln_2.bias" is float64, not a supported dtype (F32, F16 or BF16)`,
    ],
    [
      { config: (c) => c.tie_word_embeddings = false },
      (d) =>
        `Cannot read Hugging Face model "${
          weights(d)
        }": tensor "lm_head.weight" is missing (config.json sets tie_word_embeddings false)`,
    ],
  ];
  for (const [change, message] of cases) {
    const dir = await copyOf(TINY, change);
    assert.equal(await readError(dir), message(dir));
  }
});

Deno.test("readHfGpt2() names a shard the index lists but the folder lacks, and a folder without safetensors", async () => {
  const sharded = await copyOf(SHARDED);
  await Deno.remove(join(sharded, "model-00002-of-00002.safetensors"));
  assert.equal(
    await readError(sharded),
    `Cannot read Hugging Face model "${
      join(sharded, "model.safetensors.index.json")
    }": its weight_map names "model-00002-of-00002.safetensors", which is missing`,
  );
  const bin = await copyOf(TINY);
  await Deno.rename(join(bin, "model.safetensors"), join(bin, "pytorch_model.bin"));
  assert.equal(
    await readError(bin),
    `Cannot read Hugging Face model "${bin}": no model.safetensors or model.safetensors.index.json (only safetensors weights are read; save with safe_serialization=True)`,
  );
});

Deno.test("isHfModelDir() tells a Hugging Face folder from a moe checkpoint by config.json's model_type", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await isHfModelDir(dir), false);
  await Deno.writeTextFile(join(dir, "config.json"), '{"format": "moe-gpt", "version": 1}');
  assert.equal(await isHfModelDir(dir), false);
  await Deno.writeTextFile(join(dir, "config.json"), '{"model_type": "llama"}');
  assert.equal(await isHfModelDir(dir), true); // then read, and refused by its model_type
});
