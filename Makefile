# Build and test for llmd / ragd and the shared engine library.
#
#   make            release build into build/rel (bin/llmd, bin/ragd, bin/gguf-synth)
#   make test       everything built with ASan+UBSan into build/san, then tests/run.sh
#   make run        build, fetch or locate models, start llmd + ragd (scripts/run.sh)
#   make fuzz       libFuzzer targets (clang), each for FUZZ_TIME seconds
#   make bench      benchmarks under bench/ (installs the peer with npm)
#   make web        rebuild the committed web bundle (needs Node)
#   make cross      aarch64 build of the kernel tests (run under qemu-aarch64 by make test)
#
# Layout is discovered, not listed: every src/<layer>/**/*.c goes into liblm.a,
# every src/programs/<name>/*.c becomes bin/<name>, every tests/**/test_*.c a test binary.
# Files named *_avx2.c / *_avx512.c / *_neon.c get their instruction-set flags.

MODE    ?= rel
CC      ?= cc
ARCH    ?= $(shell $(CC) -dumpmachine | cut -d- -f1)
O       := build/$(MODE)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Werror=implicit-function-declaration -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
INC     := -Iinclude -Isrc -I/usr/include/postgresql
ifeq ($(MODE),san)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else ifeq ($(MODE),dbg)
OPT     := -O0 -g
else
OPT     := -O2 -g
endif
CFLAGS  ?=
CFLAGS  += $(CSTD) $(WARN) $(INC) $(OPT) -pthread -MMD -MP
LIBS    := -lmicrohttpd -lwslay -lcjson -lcurl -lsqlite3 -lpcre2-8 -lutf8proc -lpq -lxml2 -lm -lpthread
# document text extraction (ragd uploads): libxml2 and poppler-glib, their headers as system headers
DOC_INC := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libxml-2.0 poppler-glib 2>/dev/null))
INC     += $(DOC_INC)
LIBS    += $(shell pkg-config --libs poppler-glib 2>/dev/null)
LDFLAGS += $(LDSAN) -pthread

# instruction-set specific files (compiled only for their architecture)
ifeq ($(ARCH),x86_64)
SKIP_ISA := %_neon.c
else ifeq ($(ARCH),aarch64)
SKIP_ISA := %_avx2.c %_avx512.c
else
SKIP_ISA := %_neon.c %_avx2.c %_avx512.c
endif
$(O)/%_avx2.o:   XFLAGS := -mavx2 -mfma -mf16c -mbmi2
$(O)/%_avx512.o: XFLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mbmi2
# ARM64: *_neon.c is baseline ARMv8-A (runs on any ARM64); only *_dotprod_neon.c may use SDOT,
# and its kernels are installed only when the CPU reports dotprod.
$(O)/%_neon.o:   XFLAGS := -march=armv8-a
$(O)/%_dotprod_neon.o: XFLAGS := -march=armv8.2-a+dotprod

rwildcard = $(foreach d,$(wildcard $(1:=/*)),$(call rwildcard,$d,$2) $(filter $(subst *,%,$2),$d))

LIB_DIRS  := src/core src/kernels src/engine src/store src/rag src/net
LIB_SRCS  := $(filter-out $(SKIP_ISA),$(foreach d,$(LIB_DIRS),$(call rwildcard,$d,*.c)))
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
LIB       := $(O)/liblm.a

PROGS     := $(notdir $(wildcard src/programs/*))
PROG_BINS := $(PROGS:%=$(O)/bin/%)

# test_*.c run by themselves; drv_*.c are test programs that a script test drives (it starts a server)
TEST_SRCS := $(filter-out $(SKIP_ISA),$(shell find tests \( -name 'test_*.c' -o -name 'drv_*.c' \) -not -path '*/node_modules/*'))
TEST_BINS := $(TEST_SRCS:%.c=$(O)/%)

.PHONY: all test tests run fuzz fuzz-replay fuzz-bins bench web cross kernel-tests clean check-layers
all: $(PROG_BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(O)/bin/%: $$(addprefix $(O)/,$$(addsuffix .o,$$(basename $$(wildcard src/programs/$$*/*.c)))) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

tests: $(TEST_BINS)

# make test: sanitizer build of everything, then the runner (last line: N passed, N failed)
NPROC := $(shell nproc 2>/dev/null || echo 2)
test:
	$(MAKE) -j$(NPROC) MODE=san all tests fuzz-replay
	$(MAKE) -j$(NPROC) MODE=rel all
	tests/run.sh

run: all
	scripts/run.sh

# fuzz targets: fuzz/<name>.c defines LLVMFuzzerTestOneInput; corpus in fuzz/corpus/<name>/
FUZZ_SRCS  := $(wildcard fuzz/*.c)
FUZZ_NAMES := $(filter-out replay,$(basename $(notdir $(FUZZ_SRCS))))
FUZZ_TIME  ?= 60
fuzz-replay: $(FUZZ_NAMES:%=$(O)/fuzz/replay-%)
$(O)/fuzz/replay-%: fuzz/%.c fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ fuzz/$*.c fuzz/replay.c $(LIB) $(LIBS)

fuzz:
	$(MAKE) MODE=fuzz CC=clang OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" LDSAN="-fsanitize=fuzzer,address,undefined" fuzz-bins
	FUZZ_TIME=$(FUZZ_TIME) fuzz/run.sh build/fuzz
fuzz-bins: $(FUZZ_NAMES:%=$(O)/fuzz/%)
$(O)/fuzz/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

bench: all
	bench/run.sh

web:
	cd web && npm ci && npm run build
	tools/embed-web.sh web/dist src/programs/ragd/web_bundle.c

cross:
	$(MAKE) MODE=aarch64 CC=aarch64-linux-gnu-gcc ARCH=aarch64 LIB_DIRS="src/core src/kernels" LIBS="-lm -lpthread" LDFLAGS="-static -pthread" kernel-tests
KERNEL_TEST_SRCS := $(shell find tests/kernels -name 'test_*.c' 2>/dev/null)
kernel-tests: $(KERNEL_TEST_SRCS:%.c=$(O)/%)

check-layers:
	tools/check-layers.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(wildcard $(O)/src/programs/*/*.d)
