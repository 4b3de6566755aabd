#ifndef OJS_CZLIB_SHIM_H
#define OJS_CZLIB_SHIM_H
#include <zlib.h>
#endif
