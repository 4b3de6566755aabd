#ifndef OJS_CSQLITE_SHIM_H
#define OJS_CSQLITE_SHIM_H
#include <sqlite3.h>

/// `sqlite3_config` is variadic, which Swift cannot call: this is its one use here.
/// Memory statistics take a global mutex around every allocation SQLite makes; nothing here
/// reads them. Effective only before SQLite initialises (returns SQLITE_MISUSE after).
static inline int ojs_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
