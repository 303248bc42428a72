"""The C declarations of the Go shim: the one list of exports, read by _ffi and by go/build.py.

go/build.py turns CDEF into ``pybuildah/_native/_ffi_types.py`` with cffi's
out-of-line ABI mode, so that importing pybuildah never parses C (pycparser)
at run time.  This module imports nothing: the build loads it by path.
"""

# Exports with the uniform JSON-in, JSON-out signature.
EXPORTS = (
    "InitReexec",
    "RuntimeDir",
    "ReleaseHandle",
    "StoreOpen",
    "NewBuilder",
    "OpenBuilder",
    "ListContainers",
    "Add",
    "Configure",
    "SetCmd",
    "GetConfig",
    "Diff",
    "Shell",
    "Run",
    "Mount",
    "Unmount",
    "DeleteBuilder",
    "Commit",
    "StepLookup",
    "StepSave",
    "StepAdopt",
    "Rebase",
    "InspectImage",
    "ListImages",
    "Pull",
    "Push",
    "Login",
    "Logout",
    "TagImage",
    "UntagImage",
    "RemoveImage",
    "SaveImage",
    "LoadImage",
    "Prune",
    "InspectBuildInfo",
    "SyncEnv",
    "Build",
    "Cancel",
    "ManifestCreate",
    "ManifestAdd",
    "ManifestAnnotate",
    "ManifestRemove",
    "ManifestInspect",
    "ManifestPush",
    "ManifestDelete",
    "ImageAttachment",
    "AttachPush",
    "Referrers",
    "FetchAttachment",
    "FlushBuilder",
    "Contract",
    "Version",
    "GenerateSigstoreKeyPair",
)

CDEF = (
    "typedef void (*pybuildah_event_fn)(uint64_t stream, const char *kind, const char *payload);\n"
    "void PyBuildahFree(char *p);\n"
    "void PyBuildahSetEventSink(pybuildah_event_fn fn);\n"
    + "".join(f"char *PyBuildah{name}(char *options);\n" for name in EXPORTS)
)

# The module go/build.py generates beside the library; it also records the CDEF it was made from.
MODULE = "_ffi_types"
