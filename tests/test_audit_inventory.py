"""The unsafe-code scanner on small fixtures: which lines are sites, of what kind, and which are reviewed."""
import textwrap

import pytest

from tasks.audit.unsafe_inventory import describe, findings, manifest_sites, scan_source, split_c, split_cython


def scan(text, file='k.pyx'):
    return scan_source(textwrap.dedent(text).lstrip('\n'), file)


def sites(text, file='k.pyx'):
    return {s.line: (s.kinds, s.reviewed) for s in scan(text, file).sites}


# ------------------------------------------------------------------------------------------------ Cython

def test_boundscheck_decorator_without_safety_is_a_finding_with_its_line():
    inv = scan('''
        cimport cython

        @cython.boundscheck(False)
        def f(double[::1] a):
            return a[0]
        ''')
    [site] = inv.findings
    assert (site.line, site.kinds) == (3, ('directive',))
    assert describe(site).startswith('k.pyx:3: directive without a SAFETY: comment')


def test_safety_comment_above_the_decorator_reviews_it():
    assert sites('''
        cimport cython

        # SAFETY: callers pass a non-empty array (checked in `total`).
        @cython.boundscheck(False)
        @cython.wraparound(False)
        def f(double[::1] a):
            return a[0]
        ''') == {4: (('directive',), True), 5: (('directive',), True)}


def test_safety_in_the_docstring_reviews_the_decorators_and_the_body():
    got = sites('''
        @cython.cdivision(True)
        cdef double mean(const double *p, Py_ssize_t n) nogil:
            """Mean of p[:n].

            SAFETY: n > 0 and p holds n doubles (checked by the def wrapper).
            """
            return p[0] / n
        ''')
    assert got == {1: (('directive',), True), 2: (('pointer', 'nogil'), True), 7: (('pointer-arith',), True)}


def test_a_blank_line_ends_what_a_comment_covers_at_the_same_level():
    got = sites('''
        def f(double[::1] a):
            cdef double *p
            # SAFETY: a is non-empty (checked above).
            p = &a[0]

            p = &a[1]
        ''')
    assert got == {2: (('pointer',), False), 4: (('buffer-address',), True), 6: (('buffer-address',), False)}


def test_a_safety_comment_separated_by_a_blank_line_reviews_nothing():
    got = sites('''
        def f(double[::1] a):
            # SAFETY: a is non-empty (checked by the caller).

            with nogil:
                g(&a[0])
        ''')
    assert got == {4: (('nogil',), False), 5: (('buffer-address',), False)}


def test_safety_above_a_nogil_block_covers_its_body_across_blank_lines():
    got = sites('''
        def f(const unsigned long[::1] w):
            # SAFETY: w.shape[0] > 0, checked above; the memoryview keeps the buffer alive.
            with nogil:
                n = g(&w[0], w.shape[0])

                m = g(&w[0], 1)
            return n + m
        ''')
    assert got == {3: (('nogil',), True), 4: (('buffer-address',), True), 6: (('buffer-address',), True)}


def test_trailing_safety_comment_reviews_its_line_only():
    got = sites('''
        x = <unsigned long *>buf  # SAFETY: buf is 8-byte aligned, from numpy
        y = <unsigned long *>buf
        ''')
    assert got == {1: (('cast',), True), 2: (('cast',), False)}


def test_an_empty_safety_comment_does_not_count():
    assert sites('''
        # SAFETY:
        with nogil:
            pass
        ''') == {2: (('nogil',), False)}


def test_extern_block_declarations_are_sites_covered_by_their_comments():
    got = sites('''
        cdef extern from "k.h" nogil:
            # SAFETY: reads exactly n words of w.
            unsigned long popcount(const unsigned long *w, size_t n)
            int unreviewed(int x)
        ''', 'k.pxd')
    assert got == {3: (('extern',), True), 4: (('extern',), True)}
    got = sites('''
        cdef extern from "k.h" nogil:
            unsigned long popcount(const unsigned long *w, size_t n)

            int other(int x)
        ''', 'k.pxd')
    assert got == {2: (('extern',), False), 4: (('extern',), False)}


def test_prange_and_cython_header_directives():
    got = sites('''
        # cython: boundscheck=False, language_level=3
        from cython.parallel cimport prange
        for i in prange(n, nogil=True):
            pass
        ''')
    assert got == {1: (('directive',), False), 3: (('prange',), False)}
    assert sites('''
        # cython: language_level=3, boundscheck=True
        x = 1
        ''') == {}


def test_words_in_strings_and_comments_are_not_sites():
    assert sites('''
        def f():
            """with nogil: p = <int *>q; @cython.boundscheck(False)"""
            s = "with nogil: &a[0]"  # boundscheck(False) here would be a comment
            return a & b
        ''') == {}


def test_bitwise_and_is_not_an_address():
    assert sites('''
        if _features & KRN_HAS_AVX2:
            out = (x & 3)
        ''') == {}


def test_split_cython_keeps_strings_out_of_code():
    [ln] = split_cython("s = '# not a comment'  # real")
    assert ln.comment == ' real' and '#' not in ln.code and ln.string == '# not a comment'


# ----------------------------------------------------------------------------------------------------- C

def test_c_function_leading_comment_covers_the_whole_body():
    got = sites('''
        /* SAFETY: w points to n readable words. */
        static uint64_t f(const uint64_t *w, size_t n) {
            uint64_t t = 0;

            for (size_t i = 0; i + 4 <= n; i += 4) t += g(_mm256_loadu_si256((const __m256i *)(w + i)));
            return t;
        }
        static uint64_t h(const uint64_t *w) { return w[0]; }
        ''', 'k.h')
    assert got == {2: (('pointer',), True), 5: (('intrinsic', 'unaligned', 'cast', 'pointer-arith'), True),
                   8: (('pointer',), False)}


def test_c_comment_directly_above_a_statement_and_its_paragraph():
    got = sites('''
        void f(void) {
            // SAFETY: lanes is 32 bytes, the size of one __m256i.
            _mm256_storeu_si256(lanes, acc);
            memcpy(out, lanes, 32);

            memcpy(out, lanes, 32);
        }
        ''', 'k.c')
    assert got == {3: (('intrinsic', 'unaligned'), True), 4: (('unaligned',), True), 6: (('unaligned',), False)}


def test_c_safety_comment_separated_by_a_blank_line_reviews_nothing():
    got = sites('''
        /* SAFETY: w points to n readable words. */

        static uint64_t f(const uint64_t *w, size_t n) {
            // SAFETY: lanes is 32 bytes, the size of one __m256i.

            memcpy(out, lanes, 32);
            return w[n - 1];
        }
        ''', 'k.h')
    assert got == {3: (('pointer',), False), 6: (('unaligned',), False), 7: (('pointer-arith',), False)}


def test_c_multiline_comment_with_safety_in_its_last_line():
    got = sites('''
        /* Masked tail load.
         * SAFETY: the mask covers exactly the n < 8 readable words. */
        KRN_TARGET_AVX512 static inline __m512i tail(const uint64_t *w, size_t n) {
            return _mm512_maskz_loadu_epi64((__mmask8)((1u << n) - 1u), w);
        }
        ''', 'k.h')
    assert got == {3: (('pointer',), True), 4: (('intrinsic', 'unaligned'), True)}


def test_c_inline_asm_and_literals():
    got = sites('''
        static const char *name = "_mm256_loadu_si256(x)";
        __asm__ volatile("xgetbv" : "=a"(eax) : "c"(0));
        ''', 'k.h')
    assert got == {1: (('pointer',), False), 2: (('inline-asm',), False)}


def test_c_includes_and_multiplication_are_not_sites():
    assert sites('''
        #include <immintrin.h>
        int area(int a, int b) { return a * b; }
        ''', 'k.c') == {}


def test_split_c_strips_block_comments_across_lines():
    lines = split_c('a = 1; /* x\n_mm256_loadu_si256(p)\n*/ b = 2;')
    assert [ln.code.strip() for ln in lines] == ['a = 1;', '', 'b = 2;']
    assert '_mm256' in lines[1].comment


def test_unknown_suffix_is_a_clear_error():
    with pytest.raises(ValueError, match='k.rs: not a Cython or C source'):
        scan_source('', 'k.rs')


# ------------------------------------------------------------------------------------------------ manifest

MANIFEST = '''[tool.embeddenator]
paths = ["pyx"]

{comment}[tool.embeddenator.cython-directives]
language_level = 3
boundscheck = false
wraparound = true
cdivision = true
'''


def test_manifest_directives_are_one_site_each_reviewed_when_documented():
    text = MANIFEST.format(comment='# Checks are off for speed; EMBEDDENATOR_DEBUG=1 turns them back on.\n')
    inv = manifest_sites(text, 'c/pyproject.toml', {'language_level': 3, 'boundscheck': False,
                                                    'wraparound': True, 'cdivision': True})
    assert [(s.line, s.reviewed) for s in inv.sites] == [(7, True), (9, True)]
    assert inv.invariants == ('Checks are off for speed; EMBEDDENATOR_DEBUG=1 turns them back on.',)
    bare = manifest_sites(MANIFEST.format(comment=''), 'c/pyproject.toml', {'boundscheck': False})
    assert [(s.where, s.reviewed) for s in bare.sites] == [('c/pyproject.toml:6', False)]


def test_findings_are_sorted_and_inventory_counts_them():
    a = scan('with nogil:\n    pass\n', 'b.pyx')
    b = scan('# SAFETY: ok\nwith nogil:\n    pass\nx = <int *>p\n', 'a.pyx')
    assert [s.where for s in findings([a, b])] == ['a.pyx:4', 'b.pyx:1']
    assert (len(b.sites), b.reviewed, b.notes) == (2, 1, 'cast 1, nogil 1')


def test_invariants_are_the_safety_comments_text_in_order():
    inv = scan('''
        /* SAFETY: w points to n words;
         * the tail is scalar. */
        static uint64_t f(const uint64_t *w, size_t n);
        // plain comment
        int x = 1;  // SAFETY: x is a plain int
        ''', 'k.h')
    assert inv.invariants == ('w points to n words; the tail is scalar.', 'x is a plain int')
    doc = scan('''
        cdef int f(int *p) nogil:
            """Reads p.

            SAFETY: p points to one int.
            """
            return p[0]
        ''')
    assert doc.invariants == ('p points to one int.',)
