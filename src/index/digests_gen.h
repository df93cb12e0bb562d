/*
 * digests_gen.h - private to src/index: a generation of the digest tables
 * (digests.c builds and serves it, digests_io.c writes and reads it for
 * the index snapshot). The invariants of a table and a generation are in
 * digests.c's top comment. A generation never changes once built; it is
 * freed when the last of its holders (the digests it serves, a snapshot
 * being written) lets it go.
 */
#ifndef SN_DIGESTS_GEN_H
#define SN_DIGESTS_GEN_H

#include "index/digests.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *ents;   /* count * width bytes, then 8 bytes of slack */
    uint32_t *first; /* (1 << k) + 1 offsets */
    unsigned k, fp_bits, width;
    size_t count;
} sn_dtable;

typedef struct {
    uint64_t *ids; /* sorted block ids (number / SN_BLOCK_NUMBERS) */
    size_t nids;
    unsigned pos_bits;
    sn_dtable t[SN_DIGEST_KINDS];
    size_t count;
    unsigned refs; /* holders, under the digests' lock once shared */
} sn_dgen;

/* The shape of each table for n numbers over g->nids blocks. */
void sn_dgen_shape(sn_dgen *g, size_t n);

/* Memory for a table (huge pages when big), freed with free(). */
void *sn_dgen_alloc(size_t bytes);

/* Entry i of table t. */
uint64_t sn_dgen_ent(const sn_dtable *t, size_t i);

/* Free g's memory (whatever holds it). */
void sn_dgen_free(sn_dgen *g);

/* The generation d serves now, held until sn_digests_let_go (NULL: none). */
sn_dgen *sn_digests_hold(sn_digests *d);
void sn_digests_let_go(sn_digests *d, sn_dgen *g);

/* Make g (refs 1) the generation of d, which must be new and unshared. */
void sn_digests_install(sn_digests *d, sn_dgen *g);

#endif
