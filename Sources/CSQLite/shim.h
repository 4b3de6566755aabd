#ifndef OJS_CSQLITE_SHIM_H
#define OJS_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
