#ifndef PYBUILDAH_EVENTS_H
#define PYBUILDAH_EVENTS_H
#include <stdint.h>
#include <stdlib.h>

typedef void (*pybuildah_event_fn)(uint64_t stream, const char *kind, const char *payload);

void pybuildah_set_sink(pybuildah_event_fn fn);
void pybuildah_emit(uint64_t stream, const char *kind, const char *payload);
#endif
