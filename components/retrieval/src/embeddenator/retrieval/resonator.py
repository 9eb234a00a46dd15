"""Resonator network: factorise a bound product x = a * b * c given the codebook each factor comes from.

Searching every combination costs the product of the codebook sizes (10^6 for three of 100); a resonator network
(Frady, Kent, Olshausen and Sommer, 2020) searches them in superposition. It keeps one estimate per factor,
starting from the superposition of the factor's whole codebook, and updates each in turn:

    u      = x * (the other factors' estimates)        unbinding: binding is its own inverse for bipolar vectors
    s      = codebook @ u                              similarity of every codebook row to what is left
    a_hat  = sign(codebook.T @ s)                       cleanup: the rows superposed, weighted by similarity

After each sweep the guess (per factor, the row of largest |s|) is checked: when the guessed rows bound together
are exactly x the factorisation is proven and returned (`converged`). Otherwise the sweeps go on, starting again
from random-sign superpositions after every `restart_every` sweeps without an answer (a run still circling rarely
finds the answer soon; at 3 x 100 rows, D = 10,000, 1,000 trials each, within 30 sweeps: no restarts 96.5%,
restarts every 10 sweeps 98.5-99.0%, every 7-8 98.7-98.9%, every 5-6 99.3-99.4%), until the iteration limit or a
sweep that changes nothing between restarts; the rows nearest the estimates are then returned unproven.

|s|, not s: x = a * b * c is also (-a) * (-b) * c, so the network settles as often on a pair of negated factors as
on the factors themselves (read out by the largest signed similarity, a third of the
trials at 3 x 100 rows, D = 10,000 came back wrong for that reason alone).

Every step runs in the vsa kernels: `bind` on packed vectors, `PackedMatrix.dot_rows` for the similarities (one
call, every row) and `PackedMatrix.weighted_sum` for the superposition; Python only orders them. Codebooks
should be bipolar (every position +1 or -1): a sparse ternary product of three vectors is almost empty.
Estimates are ternary (a position whose weighted sum is 0 stays 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from embeddenator import vsa

__all__ = ['Factorization', 'Resonator']


@dataclass(frozen=True)
class Factorization:
    """What `Resonator.factorize` found: the row of each codebook, the sweeps used, and whether the rows were
    proven (bound together they are exactly x)."""
    indices: tuple[int, ...]
    iterations: int
    converged: bool


class Resonator:
    """A resonator network over fixed codebooks (PackedMatrix or sequences of vectors, one dimension).

    >>> from embeddenator import vsa
    >>> books = [[vsa.random(2000, 2000, seed=100 * f + i) for i in range(20)] for f in range(3)]
    >>> x = books[0][4].bind(books[1][11]).bind(books[2][7])
    >>> found = Resonator(books).factorize(x)
    >>> found.indices, found.converged
    ((4, 11, 7), True)
    """

    def __init__(self, codebooks: Sequence):
        if len(codebooks) < 2:
            raise ValueError(f'a resonator needs at least 2 codebooks, got {len(codebooks)}')
        self.codebooks = [c if isinstance(c, vsa.PackedMatrix) else vsa.PackedMatrix.from_vectors(list(c))
                          for c in codebooks]
        self.dim = self.codebooks[0].dim
        for f, book in enumerate(self.codebooks):
            if book.dim != self.dim:
                raise ValueError(f'codebook {f} has dim {book.dim}, expected {self.dim}')
            if not len(book):
                raise ValueError(f'codebook {f} is empty')
            if len(book) * self.dim >= 1 << 31:
                raise ValueError(f'codebook {f}: rows x dim must stay below 2^31 (32-bit superposition sums)')
        self._rows = [np.arange(len(book))[None, :] for book in self.codebooks]
        self._start = [self._signed(book.weighted_sum(np.ones(len(book), np.int64))) for book in self.codebooks]

    def factorize(self, x, max_iterations: int = 30, restart_every: int | None = 6) -> Factorization:
        """Factorise `x` (any vsa vector of the codebooks' dimension) in at most `max_iterations` sweeps,
        starting afresh after every `restart_every` sweeps without an answer (None: never)."""
        if max_iterations < 1:
            raise ValueError(f'max_iterations must be >= 1, got {max_iterations}')
        if restart_every is not None and restart_every < 1:
            raise ValueError(f'restart_every must be >= 1 or None, got {restart_every}')
        x = x if isinstance(x, vsa.PackedVec) else x.to_packed()
        if x.dim != self.dim:
            raise ValueError(f'x has dim {x.dim}, the codebooks {self.dim}')
        est, guess = list(self._start), [0] * len(self.codebooks)
        for sweep in range(1, max_iterations + 1):
            changed = False
            for f, book in enumerate(self.codebooks):
                u = x
                for g, other in enumerate(est):
                    if g != f:
                        u = u.bind(other)
                sims = book.dot_rows([u], self._rows[f])[0]
                guess[f] = int(np.argmax(np.abs(sims)))
                new = self._signed(book.weighted_sum(sims))
                changed = changed or new != est[f]
                est[f] = new
            if self._explains(x, guess):
                return Factorization(tuple(guess), sweep, True)
            if restart_every and sweep % restart_every == 0 and sweep < max_iterations:
                est = self.restart(sweep // restart_every)
            elif not changed:
                break
        found = (np.abs(book.dot_rows([e], rows)[0]) for book, e, rows in zip(self.codebooks, est, self._rows))
        return Factorization(tuple(int(np.argmax(a)) for a in found), sweep, False)

    def restart(self, n: int) -> list:
        """The estimates of restart `n`: each codebook superposed with random signs (numpy's generator seeded n,
        drawn codebook after codebook), so a run that is circling starts again elsewhere, reproducibly."""
        rng = np.random.default_rng(n)
        return [self._signed(book.weighted_sum(rng.choice(np.array([-1, 1]), len(book))))
                for book in self.codebooks]

    def _explains(self, x, guess) -> bool:
        """Whether the guessed rows bound together are exactly x."""
        product = self.codebooks[0].row(guess[0])
        for book, i in zip(self.codebooks[1:], guess[1:]):
            product = product.bind(book.row(i))
        return product == x

    def _signed(self, total: np.ndarray) -> 'vsa.PackedVec':
        """The sign of a dense sum as a packed vector."""
        nw = (self.dim + 63) // 64
        planes = []
        for mask in (total > 0, total < 0):
            words = np.zeros(nw, np.uint64)
            words.view(np.uint8)[:(self.dim + 7) // 8] = np.packbits(mask, bitorder='little')
            planes.append(words)
        return vsa.PackedVec(self.dim, *planes)
