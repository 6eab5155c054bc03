/**
 * How soon the embedded engine gives freed memory back to the system. Its allocator (jemalloc, inside libchdb)
 * keeps freed pages for 5 s by default (`dirty_decay_ms:5000`), and it reads `JE_MALLOC_CONF` once, as the library
 * loads: so src/storage/embedded.ts imports this module before chdb. An operator's own setting is kept.
 *
 * Measured on a backtest of no-plan over 5,974,798 events (docs/performance.md, 2026-12-06): peak RSS 1,004–1,049
 * MiB at 5 s, 947–953 MiB at 1 s (37.2 and 39.7 s, against 36.9 and 37.9), 880–896 MiB at 250 ms (about 5% slower),
 * 782–793 MiB at 0 (20–60% slower: pages handed back and faulted in again).
 */
const DIRTY_DECAY_MS = 1000;

process.env.JE_MALLOC_CONF ??= `dirty_decay_ms:${DIRTY_DECAY_MS}`;
