"""Hugging Face transformers oracle of `moe export` for a JEET / MoE-CE run.

Usage: PYTHON tests/oracle/hf_export_transformers.py EXPORTS_DIR IN.json OUT.json

PYTHON has `transformers` and `torch` (see make_hf_export.ts). EXPORTS_DIR holds one `moe export`
output per run (`jeet/`, `moe-ce/`): `moe-bundle.json` and one Hugging Face folder per expert.
IN.json holds the token windows of each class ({"windows": {class: {"tokens", "targets"}}},
targets -1 not counted). Every expert folder is loaded with transformers' own
`GPT2LMHeadModel.from_pretrained` in float64: nothing here re-implements GPT-2, so a wrong name,
shape, layout or config field fails the load or the numbers. Loading must report no missing or
unexpected weights; the head must be tied to `wte` exactly when config.json says so. Writes to
OUT.json, with IN.json's windows:
- `experts[run][expert][class]`: the expert's mean cross-entropy (nats per counted token) on
  the class's windows;
- `combined[run][class]`: for a run whose moe-bundle.json has a `combine` rule, the mean
  cross-entropy of the class's expert combined with the common expert by that rule (hidden-mean:
  the weighted sum of the two models' logits) on the class's windows;
- `sha256[run/expert]`: of each model.safetensors read.
"""
import hashlib, json, os, sys
import torch
import torch.nn.functional as F
import transformers


def load(folder):
    model, info = transformers.GPT2LMHeadModel.from_pretrained(
        folder, output_loading_info=True, dtype=torch.float64)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        sys.exit(f"{folder}: transformers loaded it with problems: {problems}")
    config = json.load(open(os.path.join(folder, "config.json")))
    tied = model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    if tied != config["tie_word_embeddings"]:
        sys.exit(f"{folder}: lm_head tied {tied}, config.json says {config['tie_word_embeddings']}")
    model.eval()
    return model


def logits(model, window):
    return model(input_ids=torch.tensor(window["tokens"], dtype=torch.long)).logits


def mean_ce(z, window):
    targets = torch.tensor(window["targets"], dtype=torch.long).reshape(-1)
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), targets, ignore_index=-1).item()


def main(exports, in_json, out_json):
    torch.set_num_threads(1)
    windows = json.load(open(in_json))["windows"]
    experts, combined, sha = {}, {}, {}
    with torch.no_grad():
        runs = [d for d in os.listdir(exports) if os.path.isdir(os.path.join(exports, d))]
        for run in sorted(runs):
            manifest = json.load(open(os.path.join(exports, run, "moe-bundle.json")))
            folders = dict(manifest["experts"])
            if manifest["common"]:
                folders["common"] = manifest["common"]
            models, experts[run] = {}, {}
            for name, folder in folders.items():
                path = os.path.join(exports, run, folder)
                weights = open(os.path.join(path, "model.safetensors"), "rb").read()
                sha[f"{run}/{name}"] = hashlib.sha256(weights).hexdigest()
                models[name] = load(path)
                experts[run][name] = {c: mean_ce(logits(models[name], w), w)
                                      for c, w in windows.items()}
            combine = manifest["combine"]
            if combine:
                if combine["rule"] != "hidden-mean":
                    sys.exit(f"{run}: rule {combine['rule']} is not checked here")
                a, b = combine["weights"]
                combined[run] = {}
                for c, w in windows.items():
                    z = a * logits(models[c], w) + b * logits(models["common"], w)
                    combined[run][c] = mean_ce(z, w)
    json.dump({"transformers": transformers.__version__, "torch": torch.__version__,
               "windows": windows, "experts": experts, "combined": combined, "sha256": sha},
              open(out_json, "w"), indent=1)
    print(f"transformers {transformers.__version__}: {sum(len(e) for e in experts.values())} "
          f"experts -> {out_json}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
