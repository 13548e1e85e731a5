# The paper's pipeline as file targets: balance → tokenizer → router → teacher → teacher cache →
# experts (in parallel with `make -j`) → assemble → eval → report.
#
#   make tiny                 # the bundled fixtures, a few minutes on 2 cores
#   make small -j2            # the shared corpora (../shared/data), SCALE=small
#   make MOE="deno run -A main.ts" tiny    # without `deno task install`
#
# Every target is a real file, so an interrupted `make` continues where it stopped. A training run
# is never forced: when its folder holds a checkpoint it continues with --resume, so a killed
# teacher does not start again from zero (a run's `.done` takes the time of its last checkpoint, so
# finishing an already finished run rebuilds nothing after it). Derived outputs (dataset, shards,
# router, cache, bundle) are rebuilt with --force when what they are made from changes: --force
# replaces only folders moe wrote (README, Safety). `make clean SCALE=…` removes one scale.

MOE ?= moe
SCALE ?= tiny
CLASSES ?= en fr de py
OUT ?= build/$(SCALE)
BACKEND ?= cpu
# Host threads per training job; with -j2 on 2 cores give each job one.
THREADS ?=

ifeq ($(SCALE),tiny)
CORPUS ?= fixtures/corpus
SPLIT ?= 0.8,0.1,0.1
VOCAB ?= 4000
ROUTER_WINDOWS ?= 1500
TEACHER ?= --config tiny --schedule balanced --steps 1500 --batch 8 --lr 3e-3 --eval-every 500
EXPERT ?= --config tiny --layers 1 --steps 200 --batch 8 --lr 3e-3 --eval-every 0
TOP_K ?= 32
EVAL_ROWS ?= 32
else ifeq ($(SCALE),small)
CORPUS ?= ../shared/data/corpus
SPLIT ?= 0.98,0.01,0.01
VOCAB ?= 8192
ROUTER_WINDOWS ?= 2000
TEACHER ?= --config bench --schedule balanced --steps 1000 --batch 16 --lr 1e-3 --eval-every 250
EXPERT ?= --config bench --layers 2 --steps 500 --batch 16 --lr 1e-3 --eval-every 250
TOP_K ?= 32
EVAL_ROWS ?= 128
else
$(error SCALE must be tiny or small, got "$(SCALE)")
endif

RUN_FLAGS = --backend $(BACKEND) $(if $(THREADS),--threads $(THREADS))
# --resume when the run folder already holds a checkpoint, else a fresh run.
resume_if = $(shell test -f $(1)/latest && echo --resume)

EXPERTS = $(foreach c,$(CLASSES),$(OUT)/experts/$(c)/.done)

.PHONY: all tiny small experts report clean
.DELETE_ON_ERROR:

all: $(OUT)/eval.json $(OUT)/report/report.md

tiny:
	$(MAKE) SCALE=tiny all
small:
	$(MAKE) SCALE=small all

$(OUT)/data/manifest.json:
	$(MOE) balance $(foreach c,$(CLASSES),--input $(c)=$(CORPUS)/$(c).jsonl.gz) \
	  --split $(SPLIT) --out $(OUT)/data --force

$(OUT)/tok.json: $(OUT)/data/manifest.json
	$(MOE) tokenizer train $(OUT)/data --vocab-size $(VOCAB) --out $@ --force

$(OUT)/tokens/manifest.json: $(OUT)/tok.json
	$(MOE) tokenizer encode --data $(OUT)/data --tokenizer $< --out $(OUT)/tokens --force

$(OUT)/router.json: $(OUT)/data/manifest.json
	$(MOE) router train --data $(OUT)/data --windows $(ROUTER_WINDOWS) --out $@ --force

$(OUT)/teacher/.done: $(OUT)/tokens/manifest.json
	$(MOE) train --data $(OUT)/tokens $(TEACHER) $(RUN_FLAGS) --out $(OUT)/teacher \
	  $(call resume_if,$(OUT)/teacher)
	touch -r $(OUT)/teacher/latest $@

$(OUT)/cache/manifest.json: $(OUT)/teacher/.done
	$(MOE) distill cache --teacher $(OUT)/teacher --data $(OUT)/tokens --top-k $(TOP_K) \
	  $(RUN_FLAGS) --out $(OUT)/cache --force

$(OUT)/experts/%/.done: $(OUT)/cache/manifest.json
	$(MOE) distill --cache $(OUT)/cache --data $(OUT)/tokens --lang $* $(EXPERT) $(RUN_FLAGS) \
	  --out $(OUT)/experts/$* $(call resume_if,$(OUT)/experts/$*)
	touch -r $(OUT)/experts/$*/latest $@

experts: $(EXPERTS)

$(OUT)/moe/manifest.json: $(OUT)/router.json $(EXPERTS)
	$(MOE) assemble --router $(OUT)/router.json \
	  $(foreach c,$(CLASSES),--expert $(c)=$(OUT)/experts/$(c)) --out $(OUT)/moe --force

$(OUT)/eval.json: $(OUT)/moe/manifest.json
	$(MOE) eval $(OUT)/moe --data $(OUT)/tokens --teacher $(OUT)/teacher --rows $(EVAL_ROWS) \
	  --mix router $(RUN_FLAGS) --json > $@.tmp
	mv $@.tmp $@

$(OUT)/report/report.md: $(OUT)/teacher/.done
	$(MOE) report $(OUT)/teacher/metrics.jsonl --out $(OUT)/report

report: $(OUT)/report/report.md

clean:
	rm -rf $(OUT)
