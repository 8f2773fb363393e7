// The server's allocator settings, read by jemalloc when the process starts
// (linked into runbot only; CMakeLists.txt says why jemalloc).
//
// background_thread: freed pages are returned by jemalloc's own thread,
//   also while the server is idle; without it, purging waits for the next
//   allocations.
// dirty_decay_ms:1000, muzzy_decay_ms:0: pages unused for about a second go
//   back to the kernel, so the RSS falls back to its baseline once a burst
//   of connections has gone.
// The environment's MALLOC_CONF still overrides these (jemalloc reads it
// after this).
#include <jemalloc/jemalloc.h>

const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
