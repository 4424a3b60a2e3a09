# parapet -- build.  Read top to bottom in a minute:
#
#   make            library (static + shared), the parapet CLI, pkg-config file
#   make run        install missing Debian packages, build, show verdicts on
#                   examples/texts.txt, then serve the API on 127.0.0.1:$(PORT)
#   make test       install missing packages, build, run the whole test suite
#   make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       build the libFuzzer targets and run each briefly (FUZZ_SECONDS)
#   make bench      the benchmarks in bench/ (peers installed on demand)
#   make install    PREFIX=/usr/local
#
# Every variant builds into its own folder ($(B)), so they never mix objects.

CC      ?= cc
B       ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2
SAN     ?=
FUZZ_SECONDS ?= 20
PORT    ?= 8080

PKGS    := libutf8proc yaml-0.1 jansson libpcre2-8 libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lutf8proc -lyaml -ljansson -lpcre2-8 -lcurl -lssl -lcrypto)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wvla -Wno-missing-field-initializers
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -fPIC -fvisibility=hidden \
           -Iinclude -Isrc -I$(B)/gen $(PKG_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lpthread -lm
LDFLAGS := $(SAN) $(EXTRA_LDFLAGS)

LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/server/*' | sort)
SRV_SRC  := $(shell find src/server -name '*.c' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(shell find tests -name '*.c' -not -path '*/node_modules/*' | sort)
EMBED    := policies/default.yaml $(shell find data -type f \( -name '*.txt' -o -name '*.tsv' \) | sort) \
            $(wildcard models/*.ppm)

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/embedded.o $(B)/obj/gen/embedded_data.o
SRV_OBJ  := $(SRV_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)

.PHONY: FORCE all deps run test test-run asan fuzz bench install clean model
all: $(B)/libparapet.a $(B)/libparapet.so $(B)/parapet $(B)/parapet.pc

deps:
	@sh tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(B)/parapet check --table --file examples/texts.txt; test $$? -le 1
	@echo
	@echo "serving on http://127.0.0.1:$(PORT) (Ctrl-C stops).  Try:"
	@echo "  curl -s localhost:$(PORT)/v1/moderations -H 'Content-Type: application/json' -d '{\"input\": [\"text one\", \"you idiot\"]}'"
	$(B)/parapet serve --port $(PORT)

test: deps
	@$(MAKE) --no-print-directory test-run

test-run: all $(B)/tests/run
	PARAPET_BIN=$(B)/parapet $(B)/tests/run $(TESTS)

asan: deps
	@$(MAKE) --no-print-directory B=build-asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test-run

# ---------------------------------------------------------------- objects ----
$(B)/obj/tests/%.o: CFLAGS += -Itests
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/gen/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/obj/gen/embedded_data.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) -c $(B)/gen/embedded.S -o $@

# The list of embedded files is itself a dependency, so adding or removing one rebuilds.
$(B)/gen/embed.list: FORCE
	@mkdir -p $(B)/gen
	@echo '$(EMBED)' | cmp -s - $@ || echo '$(EMBED)' > $@

$(B)/gen/embedded.c: $(EMBED) $(B)/gen/embed.list tools/embed.c
	@mkdir -p $(B)/gen
	$(CC) -O1 -o $(B)/gen/embed tools/embed.c
	$(B)/gen/embed $(B)/gen/embedded $(EMBED)

# ---------------------------------------------------------------- outputs ----
$(B)/libparapet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libparapet.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libparapet.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The HTTP server is a front end (public header only) with its own dependencies
# (OpenSSL): it goes into the parapet binary and its tests, not into libparapet.
$(B)/libparapet_server.a: $(SRV_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/parapet: $(CLI_OBJ) $(B)/libparapet_server.a $(B)/libparapet.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libparapet_server.a $(B)/libparapet.a $(LDLIBS)

$(B)/tests/run: $(TEST_OBJ) $(B)/libparapet_server.a $(B)/libparapet.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(B)/libparapet_server.a $(B)/libparapet.a $(LDLIBS)

$(B)/parapet.pc: tools/parapet.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/.*PARAPET_VERSION_STRING "\(.*\)"/\1/p' include/parapet.h)|' $< > $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(B)/parapet $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libparapet.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libparapet.so $(DESTDIR)$(PREFIX)/lib/libparapet.so.0
	ln -sf libparapet.so.0 $(DESTDIR)$(PREFIX)/lib/libparapet.so
	install -m 644 include/parapet.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/.*PARAPET_VERSION_STRING "\(.*\)"/\1/p' include/parapet.h)|' \
	  tools/parapet.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/parapet.pc

# ------------------------------------------------------------------- fuzz ----
FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
fuzz: deps
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang OPT=-O1 \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libparapet.a build-fuzz/libparapet_server.a
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	  echo "fuzz $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=0 -artifact_prefix=build-fuzz/ \
	    build-fuzz/corpus/$$n fuzz/seeds/$$n > build-fuzz/$$n.log 2>&1 \
	    || { tail -n 40 build-fuzz/$$n.log; echo "fuzz $$n FAILED (input saved under build-fuzz/)"; exit 1; }; \
	  tail -n 1 build-fuzz/$$n.log; done

build-fuzz/%: fuzz/%.c build-fuzz/libparapet.a build-fuzz/libparapet_server.a
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
	  -o $@ $< build-fuzz/libparapet_server.a build-fuzz/libparapet.a $(LDLIBS)

# ------------------------------------------------------- llm conformance ----
# The forward pass against llama.cpp on each architecture's tiny shape and the real guard
# shapes (Llama Guard 3 1B, ShieldGemma 2B, Qwen3Guard 0.6B, Granite Guardian 2B),
# F16/Q8_0/Q4_K_M, 20 prompts of 1..1000 tokens; hours on 2 cores (the CI version:
# tests/conformance/llm/run.sh ci; one shape: run.sh full SHAPE).
.PHONY: conformance-llm
conformance-llm: all
	sh tests/conformance/llm/run.sh full

# ------------------------------------------------------------------ bench ----
bench: all
	sh bench/run.sh

# ------------------------------------------------------------------ model ----
# Rebuilds the shipped classifier, bit for bit, from ../shared/data/train (permissive
# licences only) plus the text written for it (data/classifier); see models/MODEL_CARD.md.
MODEL_DATA ?= ../shared/data/train
model: all
	$(B)/parapet train --data $(MODEL_DATA) data/classifier --out models/default.ppm \
	  --seed 1 --epochs 10 --threads 2 --hash-bits 15 --char-ngrams 2-5 --policy-fpr 0.001 --min-pos 60 --no-emit profanity \
	  --assume advbench:jailbreak=0 --assume jailbreak_llms_forbidden_questions:jailbreak=0 \
	  --report models/train-report.json

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
