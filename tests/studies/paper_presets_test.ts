import assert from "node:assert/strict";
import { DISTILL_PRESETS, FORGETTING_PRESETS, MOE_VARIANTS_PRESETS } from "../../studies/mod.ts";
import { gptParameterCount } from "../../studies/moe_variants/moe_variants_size.ts";
import { GPT_CONFIGS } from "../../models/gpt.ts";

/** A preset's shape as the paper states it: layers, width, heads, context, vocabulary. */
function shape(name: keyof typeof GPT_CONFIGS): string {
  const c = GPT_CONFIGS[name];
  return `${c.layers}×${c.dModel}/${c.heads} ctx ${c.contextLength} V ${c.vocabSize}`;
}

Deno.test("the paper-* configs are the paper's teacher, students and experts", () => {
  assert.equal(shape("paper-teacher"), "24×1024/16 ctx 1024 V 32000");
  assert.equal(shape("paper-student-6l"), "6×768/12 ctx 1024 V 32000");
  assert.equal(shape("paper-student-3l"), "3×768/12 ctx 1024 V 32000");
  assert.equal(shape("paper-expert"), "3×768/6 ctx 1024 V 32000");
  // GPT-2 medium's 354.8 M parameters less the 18 257 tokens its vocabulary has over 32 000.
  const medium = gptParameterCount({ ...GPT_CONFIGS["gpt2-medium"], vocabSize: 32000 });
  assert.equal(gptParameterCount(GPT_CONFIGS["paper-teacher"]), medium);
  assert.equal(medium, 354_823_168 - (50257 - 32000) * 1024);
});

Deno.test("the paper scale of every experiment trains the paper's sizes on whole 1024-token contexts", () => {
  const distill = DISTILL_PRESETS.paper;
  assert.equal(distill.student.config, "paper-student-6l");
  assert.equal(distill.teacher.config, "paper-teacher");
  assert.equal(distill.seqLen, 1024);
  const moe = MOE_VARIANTS_PRESETS.paper;
  assert.equal(moe.config, "paper-expert");
  assert.equal(moe.teacherConfig, "paper-teacher");
  assert.equal(moe.seqLen, 1024);
  const forgetting = FORGETTING_PRESETS.paper;
  assert.equal(forgetting.config, "paper-student-6l");
  assert.equal(forgetting.seqLen, 1024);
  // No override shrinks them back.
  for (const p of [distill.student, distill.teacher, moe, forgetting]) {
    assert.equal(p.layers, undefined);
    assert.equal(p.contextLength, undefined);
  }
});
