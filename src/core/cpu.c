/* cpu.c — CPU feature detection: cpuid plus xgetbv (the OS must save YMM/ZMM state) on x86-64,
 * getauxval(AT_HWCAP) on ARM64. Filled once; LM_CPU_DISABLE masks features for tests. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lm/cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

static struct lm_cpu_features feats;
static pthread_once_t feats_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
/* XCR0: which register states the OS saves on context switch. */
static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static void detect(struct lm_cpu_features *f)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    bool fma = c & (1u << 12), f16c = c & (1u << 29);
    if (!osxsave || !avx) return;
    unsigned long long xcr0 = xgetbv0();
    bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (!ymm) return;
    unsigned max = __get_cpuid_max(0, NULL);
    if (max < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = b & (1u << 5);
    f->bmi2 = b & (1u << 8);
    f->fma = fma;
    f->f16c = f16c;
    if (zmm) {
        f->avx512f = b & (1u << 16);
        f->avx512dq = b & (1u << 17);
        f->avx512bw = b & (1u << 30);
        f->avx512vl = b & (1u << 31);
        f->avx512vnni = c & (1u << 11);
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        f->avx512bf16 = a1 & (1u << 5);
        (void)b1; (void)c1; (void)d1;
    }
}
#elif defined(__aarch64__)
static void detect(struct lm_cpu_features *f)
{
    unsigned long hw = getauxval(AT_HWCAP);
    f->neon = hw & (1ul << 1);        /* HWCAP_ASIMD */
    f->fp16 = hw & (1ul << 10);       /* HWCAP_ASIMDHP */
    f->dotprod = hw & (1ul << 20);    /* HWCAP_ASIMDDP */
}
#else
static void detect(struct lm_cpu_features *f)
{
    (void)f;
}
#endif

/* Applies one LM_CPU_DISABLE token. */
static void disable(struct lm_cpu_features *f, const char *tok, size_t len)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(tok, s, len) == 0)
    if (IS("all")) {
        memset(f, 0, sizeof *f);
    } else if (IS("avx2")) {
        f->avx2 = f->fma = f->f16c = f->bmi2 = false;
        f->avx512f = f->avx512bw = f->avx512vl = f->avx512dq = f->avx512vnni = f->avx512bf16 = false;
    } else if (IS("avx512")) {
        f->avx512f = f->avx512bw = f->avx512vl = f->avx512dq = f->avx512vnni = f->avx512bf16 = false;
    } else if (IS("avx512vnni")) {
        f->avx512vnni = false;
    } else if (IS("avx512bf16")) {
        f->avx512bf16 = false;
    } else if (IS("neon")) {
        f->neon = f->dotprod = f->fp16 = false;
    } else if (IS("dotprod")) {
        f->dotprod = false;
    } else if (IS("fp16")) {
        f->fp16 = false;
    }
#undef IS
}

static void init_features(void)
{
    detect(&feats);
    const char *dis = getenv("LM_CPU_DISABLE");
    while (dis && *dis) {
        size_t len = strcspn(dis, ", ");
        if (len) disable(&feats, dis, len);
        dis += len;
        dis += strspn(dis, ", ");
    }
}

/* Detected features, computed once. */
const struct lm_cpu_features *lm_cpu_features(void)
{
    pthread_once(&feats_once, init_features);
    return &feats;
}

/* Cores this process may run on. */
int lm_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Name of the best kernel set the features allow. */
const char *lm_cpu_kernel_name(void)
{
    const struct lm_cpu_features *f = lm_cpu_features();
    bool avx2 = f->avx2 && f->fma && f->f16c && f->bmi2;
    bool avx512 = avx2 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq;
    if (avx512 && f->avx512vnni) return "avx512vnni";
    if (avx512) return "avx512";
    if (avx2) return "avx2";
    if (f->neon && f->dotprod) return "neon+dotprod";
    if (f->neon) return "neon";
    return "scalar";
}
