/* test_sha256.c — SHA-256 against the FIPS 180-4 / NIST example vectors and a fixture's
 * published digest, in one piece and streamed in odd-sized parts. */
#include "lm/sha256.h"
#include "lm_test.h"

static void hex_of(const void *data, size_t len, char out[65])
{
    struct lm_sha256 h;
    uint8_t d[32];
    lm_sha256_init(&h);
    lm_sha256_update(&h, data, len);
    lm_sha256_final(&h, d);
    lm_sha256_hex(d, out);
}

static void test_vectors(void)
{
    char hex[65];
    hex_of("", 0, hex);
    ASSERT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    ASSERT_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a', fed in parts of varying size to cross block boundaries */
    struct lm_sha256 h;
    lm_sha256_init(&h);
    char a[1000];
    memset(a, 'a', sizeof a);
    size_t done = 0, step = 1;
    while (done < 1000000) {
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        if (n > sizeof a) n = sizeof a;
        lm_sha256_update(&h, a, n);
        done += n;
        step = step * 7 % 997 + 1;
    }
    uint8_t d[32];
    lm_sha256_final(&h, d);
    lm_sha256_hex(d, hex);
    ASSERT_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The fixtures README publishes each file's sha256. */
static void test_fixture(void)
{
    FILE *f = fopen(lm_test_fixture("llama-2-tiny-random.gguf"), "rb");
    if (!f) {
        printf("SKIP: fixture llama-2-tiny-random.gguf not found\n");
        exit(77);
    }
    struct lm_sha256 h;
    lm_sha256_init(&h);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) lm_sha256_update(&h, buf, n);
    fclose(f);
    uint8_t d[32];
    char hex[65];
    lm_sha256_final(&h, d);
    lm_sha256_hex(d, hex);
    ASSERT_STR_EQ(hex, "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb");
}

int main(void)
{
    RUN_TEST(test_vectors);
    RUN_TEST(test_fixture);
    fprintf(stderr, "ok\n");
    return 0;
}
