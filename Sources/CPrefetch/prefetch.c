// CPrefetch is header-only (prefetch.h); SwiftPM wants one source file in a C target.
#include "prefetch.h"
