/* test_retrieve_weak.c — hybrid retrieval with a weak (random) embedder: a question naming a
 * unique codeword must retrieve its own document; the weighted fusion's rules on made-up lists
 * (flat vectors vote little, keyword votes scale with their score, vectors alone keep plain
 * reciprocal ranks). */
#include <unistd.h>

#include "lm/rag.h"
#include "lm/store.h"
#include "lm_test.h"

/* A hit list with ids[i] and scores[i] (new strings, as the store returns them). */
static struct lm_hit *list_of(const int64_t *ids, const double *scores, size_t n)
{
    struct lm_hit *h = calloc(n + 1, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "chunk %lld", (long long)ids[i]);
        h[i] = (struct lm_hit){.chunk_id = ids[i], .document_id = ids[i], .source = strdup("s"),
                               .content = strdup(buf), .score = scores[i]};
    }
    return h;
}

/* The fusion's rules on made-up lists. */
static void test_rules(void)
{
    struct lm_hit *out;
    size_t n;
    /* flat vectors (random embedder): 1..5 nearly equal; keyword: 9 matches a rare term (score
     * 8), 1 and 2 only common words (0.1). Plain RRF puts 1 first; weighted puts 9 first. */
    const int64_t vid[] = {1, 2, 3, 4, 5}, kid[] = {9, 1, 2};
    const double vflat[] = {0.951, 0.950, 0.949, 0.948, 0.947}, ksc[] = {8.0, 0.1, 0.1};
    struct lm_hit *tmp = list_of(vid, vflat, 5);
    ASSERT_NEAR(lm_rag_vector_weight(tmp, 5), 0.1, 1e-9);
    lm_store_free_hits(tmp, 5);
    ASSERT_OK(lm_rag_fuse(list_of(vid, vflat, 5), 5, list_of(kid, ksc, 3), 3, 3, &out, &n));
    ASSERT_EQ(out[0].chunk_id, 1);
    lm_store_free_hits(out, n);
    ASSERT_OK(lm_rag_fuse_hybrid(list_of(vid, vflat, 5), 5, list_of(kid, ksc, 3), 3, 3, &out, &n));
    ASSERT_EQ(n, 3);
    ASSERT_EQ(out[0].chunk_id, 9);
    /* weights 0.1 and 1 scaled to sum 2: 9's score is the keyword half alone at rank 1 */
    ASSERT_NEAR(out[0].score, (2.0 / 1.1) / 61, 1e-12);
    ASSERT(out[0].score <= 2.0 / 61 + 1e-12);
    lm_store_free_hits(out, n);

    /* informative vectors (spread 0.4): full weight, the scale of plain RRF; a chunk first in
     * both lists gets 2/61 */
    const double vgood[] = {0.8, 0.6, 0.5, 0.45, 0.4}, kboth[] = {5.0, 4.0, 1.0};
    const int64_t kid2[] = {1, 3, 9};
    tmp = list_of(vid, vgood, 5);
    ASSERT_NEAR(lm_rag_vector_weight(tmp, 5), 1.0, 1e-9);
    lm_store_free_hits(tmp, 5);
    ASSERT_OK(lm_rag_fuse_hybrid(list_of(vid, vgood, 5), 5, list_of(kid2, kboth, 3), 3, 5, &out, &n));
    ASSERT_EQ(out[0].chunk_id, 1);
    ASSERT_NEAR(out[0].score, 2.0 / 61, 1e-12);
    ASSERT_EQ(out[1].chunk_id, 3); /* 1/63 + 0.8/62 beats 2's 1/62 */
    lm_store_free_hits(out, n);

    /* vectors only: the seed's plain reciprocal ranks, whatever the spread */
    ASSERT_OK(lm_rag_fuse_hybrid(list_of(vid, vflat, 5), 5, NULL, 0, 2, &out, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(out[0].chunk_id, 1);
    ASSERT_NEAR(out[0].score, 1.0 / 61, 1e-12);
    ASSERT_NEAR(out[1].score, 1.0 / 62, 1e-12);
    lm_store_free_hits(out, n);

    /* keyword only: relative scores; zero scores do not divide by zero */
    const double kzero[] = {0, 0, 0};
    ASSERT_OK(lm_rag_fuse_hybrid(NULL, 0, list_of(kid, kzero, 3), 3, 3, &out, &n));
    ASSERT_EQ(n, 3);
    ASSERT_EQ(out[0].chunk_id, 9);
    ASSERT_NEAR(out[0].score, 1.0 / 61, 1e-12);
    lm_store_free_hits(out, n);
}

/* 50 documents, each naming its own codeword; a random BERT embeds them. */
static void test_codewords(void)
{
    const char *model = lm_test_fixture("bert-uncased-vocab-tiny.gguf");
    if (access(model, R_OK) != 0) {
        printf("SKIP: no %s (LM_FIXTURES)\n", model);
        exit(77);
    }
    struct lm_rag_embedder emb;
    struct lm_error err = {0};
    ASSERT_OK(lm_rag_embedder_local(model, 1, &emb, &err));
    char url[4200];
    snprintf(url, sizeof url, "sqlite:%s", lm_test_tmp("weak.db"));
    unlink(lm_test_tmp("weak.db"));
    struct lm_store *s;
    ASSERT_OK(lm_store_open(&(struct lm_store_open_params){.url = url, .model_name = emb.name, .dim = emb.dim,
                                                          .migrate = true},
                            &s, &err));
    enum { TAGS = 50 };
    for (int i = 0; i < TAGS; i++) {
        char src[32], text[200];
        snprintf(src, sizeof src, "tag%d.txt", i);
        snprintf(text, sizeof text, "Codeword zq%dx belongs to station %d. Station %d reports codeword zq%dx daily.", i,
                 i, i, i);
        struct lm_rag_ingest_result res;
        ASSERT_OK(lm_rag_ingest(s, &emb, src, text, &(struct lm_rag_ingest_params){0}, &res, &err));
    }
    int right = 0, plain_right = 0;
    double wsum = 0;
    for (int i = 0; i < TAGS; i++) {
        char q[100], want[32];
        snprintf(q, sizeof q, "Which station reports codeword zq%dx?", i);
        snprintf(want, sizeof want, "tag%d.txt", i);
        struct lm_hit *h;
        size_t n;
        ASSERT_OK(lm_rag_retrieve(s, &emb, q, 2, &h, &n, &err));
        ASSERT(n >= 1);
        right += !strcmp(h[0].source, want);
        ASSERT(h[0].score > 0 && h[0].score <= 2.0 / 61 + 1e-12);
        lm_store_free_hits(h, n);
        /* the same lists under plain RRF, for the record */
        float *v = malloc(sizeof(float) * (size_t)emb.dim);
        const char *qp = q;
        ASSERT_OK(emb.embed(emb.self, &qp, 1, v, &err));
        struct lm_hit *vh, *kh;
        size_t nv, nk;
        ASSERT_OK(lm_store_search_vector(s, v, 20, &vh, &nv, &err));
        ASSERT_OK(lm_store_search_keyword(s, q, 20, &kh, &nk, &err));
        free(v);
        wsum += lm_rag_vector_weight(vh, nv);
        ASSERT_OK(lm_rag_fuse(vh, nv, kh, nk, 2, &h, &n));
        plain_right += n && !strcmp(h[0].source, want);
        lm_store_free_hits(h, n);
    }
    printf("codewords: weighted fusion %d/%d right, plain RRF %d/%d, mean vector weight %.2f\n", right, TAGS,
           plain_right, TAGS, wsum / TAGS);
    ASSERT_EQ(right, TAGS);
    lm_store_close(s);
    lm_rag_embedder_free(&emb);
}

int main(void)
{
    RUN_TEST(test_rules);
    RUN_TEST(test_codewords);
    return 0;
}
