// The one event sink that Python installs through PyBuildahSetEventSink.
// Kept in its own C file: cgo copies the preamble of files with //export
// into two translation units, so definitions must not live there.
#include "events.h"

static pybuildah_event_fn pybuildah_sink;

void pybuildah_set_sink(pybuildah_event_fn fn) { pybuildah_sink = fn; }

void pybuildah_emit(uint64_t stream, const char *kind, const char *payload) {
	pybuildah_event_fn fn = pybuildah_sink;
	if (fn != NULL) {
		fn(stream, kind, payload);
	}
}
