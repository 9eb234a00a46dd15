/* Region markers for instruction counting under valgrind's callgrind, called from Python through ctypes.
 *
 * The client requests are no-ops (a few instructions) outside valgrind, so the counted worker also runs plainly.
 * The run starts with instrumentation off (--instr-atstart=no): interpreter start-up and imports cost nothing;
 * the first region switches it on, each region zeroes the counters and ends with a dump labelled by the caller.
 */
#include <valgrind/callgrind.h>

static int instrumenting = 0;

int cgm_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }

void cgm_begin(void) {
    if (!instrumenting) {
        CALLGRIND_START_INSTRUMENTATION;
        instrumenting = 1;
    }
    CALLGRIND_ZERO_STATS;
}

/* SAFETY: `label` is a NUL-terminated string owned by the caller for the duration of the call (ctypes passes
 * a bytes object); callgrind copies it into the dump's description. */
void cgm_end(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
