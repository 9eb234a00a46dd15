"""The resonator network in plain numpy: the oracle the compiled one is tested and benchmarked against.

The same algorithm as embeddenator.retrieval.resonator, on dense arrays: start from each codebook's superposition,
update each factor in turn (unbind the others, similarities, weighted superposition, sign); after each sweep stop
if the rows of largest |similarity| bound together are x; restart from random-sign superpositions every
`restart_every` sweeps; else go on until a sweep changes nothing between restarts or the limit,
and read each factor out as its codebook row of largest |similarity| to its estimate (ties: the lower row).
"""
from __future__ import annotations

import numpy as np


def factorize(x: np.ndarray, books: list[np.ndarray], max_iterations: int = 30,
              restart_every: int | None = 6) -> tuple[tuple[int, ...], int, bool]:
    """(indices, sweeps used, converged) for a dense x and dense codebooks (rows are codebook vectors).

    Any numeric dtype works; the sums stay exact in float32 up to 2^24 (rows x dim below 16.7 million)."""
    est, guess = [np.sign(b.sum(axis=0)) for b in books], [0] * len(books)
    for sweep in range(1, max_iterations + 1):
        changed = False
        for f, book in enumerate(books):
            u = x.copy()
            for g, other in enumerate(est):
                if g != f:
                    u = u * other
            sims = book @ u
            guess[f] = int(np.argmax(np.abs(sims)))
            new = np.sign(sims @ book)
            changed = changed or not np.array_equal(new, est[f])
            est[f] = new
        if np.array_equal(np.prod([b[i] for b, i in zip(books, guess)], axis=0), x):
            return tuple(guess), sweep, True
        if restart_every and sweep % restart_every == 0 and sweep < max_iterations:
            rng = np.random.default_rng(sweep // restart_every)
            est = [np.sign(rng.choice(np.array([-1, 1]), len(b)).astype(b.dtype) @ b) for b in books]
        elif not changed:
            break
    return tuple(int(np.argmax(np.abs(b @ e))) for b, e in zip(books, est)), sweep, False
