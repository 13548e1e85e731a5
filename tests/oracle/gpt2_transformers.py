"""Hugging Face transformers oracle: loads our export with GPT2LMHeadModel.from_pretrained.

Usage: PYTHON tests/oracle/gpt2_transformers.py IN_DIR OUT.safetensors

PYTHON has `transformers` and `torch` (see make_golden.ts). IN_DIR is what `make_golden.ts`
wrote: `model.safetensors` and `config.json` exactly as `moe export` writes them, and
`batch.json`. Unlike gpt2_torch.py, nothing here re-implements GPT-2: the model is transformers'
own, so a wrong name, shape, layout or config field fails the load or the numbers. Loading must
report no missing or unexpected weights (the tied `lm_head.weight` is not missing: transformers
ties it to `wte`). Writes the loss (metadata) and every parameter's gradient, under its Hugging
Face name, to OUT.
"""
import json, sys
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file


def main(in_dir, out):
    torch.set_num_threads(1)
    model, info = transformers.GPT2LMHeadModel.from_pretrained(
        in_dir, output_loading_info=True, dtype=torch.float64)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        sys.exit(f"{in_dir}: transformers loaded it with problems: {problems}")
    if model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr():
        sys.exit(f"{in_dir}: lm_head is not tied to wte")
    model.eval()
    batch = json.load(open(f"{in_dir}/batch.json"))
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    targets = torch.tensor(batch["targets"], dtype=torch.long)
    logits = model(input_ids=tokens).logits
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=-1)
    loss.backward()
    grads = {k: p.grad.to(torch.float32).contiguous() for k, p in model.named_parameters()}
    save_file(grads, out, {"loss": repr(loss.item()), "transformers": transformers.__version__,
                           "torch": torch.__version__, "weights_sha256": batch["weights_sha256"]})
    print(f"transformers {transformers.__version__}: loss {loss.item():.6f}, "
          f"{len(grads)} gradients -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
