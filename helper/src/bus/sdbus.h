// sd-bus's header, from the library NS8M_SDBUS chose (CMakeLists.txt).  The
// only way into sd-bus: nothing else of libsystemd is used.
#pragma once

#if defined(NS8M_SDBUS_BASU)
#include <basu/sd-bus.h>
#elif defined(NS8M_SDBUS_LIBELOGIND)
// libelogind.pc's include folder is <prefix>/include/elogind.
#include <sd-bus.h>
#else
#include <systemd/sd-bus.h>
#endif

// The vtables' last entry, all zero but its type, as every sd-bus's macro
// makes it.  Older ones (basu, elogind 246) initialise one field of the
// union's first struct, which -Wmissing-field-initializers rejects where the
// macro is used; this form initialises every member in any version.
#undef SD_BUS_VTABLE_END
#define SD_BUS_VTABLE_END {_SD_BUS_VTABLE_END, 0, {}}

// A method without arguments is SD_BUS_METHOD_WITH_NAMES(name, "", "", ...):
// in older sd-bus (elogind 246's) SD_BUS_METHOD_WITH_ARGS with SD_BUS_NO_ARGS
// gives it an empty first name, which the result's argument then shows in
// the introspection data instead of its own.
#undef SD_BUS_NO_ARGS
