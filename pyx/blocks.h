/* Block-sparse ternary vectors (block size 64): sorted block ids with one +1 mask and one -1 mask per block,
 * no empty block. Operations merge the block id lists and apply the packed word formulas per block.
 */
#ifndef EMBEDDENATOR_BLOCKS_H
#define EMBEDDENATOR_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

/* Dot product over the common blocks.
 * SAFETY: a holds na and b holds nb (id, pos mask, neg mask) triples; indices stay below na / nb. */
static inline int64_t krn_block_dot(const int64_t *aid, const uint64_t *ap, const uint64_t *an, size_t na,
                                    const int64_t *bid, const uint64_t *bp, const uint64_t *bn, size_t nb) {
    size_t i = 0, j = 0;
    int64_t s = 0;
    while (i < na && j < nb) {
        if (aid[i] < bid[j]) { i++; continue; }
        if (bid[j] < aid[i]) { j++; continue; }
        s += __builtin_popcountll((ap[i] & bp[j]) | (an[i] & bn[j]));
        s -= __builtin_popcountll((ap[i] & bn[j]) | (an[i] & bp[j]));
        i++;
        j++;
    }
    return s;
}

#define KRN_BLOCK_BIND 0
#define KRN_BLOCK_BUNDLE 1

/* bind (intersection of blocks) or bundle (union) per block, dropping blocks that come out empty; returns the
 * number of blocks written.
 * SAFETY: inputs as krn_block_dot; the outputs have room for na + nb blocks (the union's bound). */
static inline size_t krn_block_combine(int op, const int64_t *aid, const uint64_t *ap, const uint64_t *an,
                                       size_t na, const int64_t *bid, const uint64_t *bp, const uint64_t *bn,
                                       size_t nb, int64_t *oid, uint64_t *op_, uint64_t *on) {
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        int64_t x = i < na ? aid[i] : INT64_MAX, y = j < nb ? bid[j] : INT64_MAX;
        int64_t at = x < y ? x : y;
        uint64_t xp = 0, xn = 0, yp = 0, yn = 0, p, n;
        if (x == at) { xp = ap[i]; xn = an[i]; i++; }
        if (y == at) { yp = bp[j]; yn = bn[j]; j++; }
        if (op == KRN_BLOCK_BIND) {
            p = (xp & yp) | (xn & yn);
            n = (xp & yn) | (xn & yp);
        } else {
            p = (xp & ~yn) | (yp & ~xn);
            n = (xn & ~yp) | (yn & ~xp);
        }
        if (p | n) { oid[k] = at; op_[k] = p; on[k] = n; k++; }
    }
    return k;
}

#endif /* EMBEDDENATOR_BLOCKS_H */
