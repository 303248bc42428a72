package images

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/timetype"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/store"
)

// filterKeys are the keys `buildah images --filter` accepts: libimage's
// ListImages filters.  The bool ones take true or false.
var filterKeys = map[string]bool{
	"after": false, "since": false, "before": false, "containers": true, "dangling": true, "id": false,
	"digest": false, "intermediate": true, "label": false, "readonly": true, "manifest": true,
	"reference": false, "until": false,
}

// ParseFilter splits "key=value" or "key!=value" as libimage does and checks
// what can be checked without the store: the key, and the values of the
// boolean, digest and until filters.
func ParseFilter(filter string) (key, value string, err error) {
	key, value, ok := strings.Cut(filter, "!=")
	if !ok {
		if key, value, ok = strings.Cut(filter, "="); !ok {
			return "", "", errkind.New(errkind.InvalidArgument, "image filter %q is not key=value or key!=value", filter)
		}
	}
	boolean, known := filterKeys[key]
	switch {
	case !known:
		keys := make([]string, 0, len(filterKeys))
		for k := range filterKeys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return "", "", errkind.New(errkind.InvalidArgument, "unknown image filter %q; known: %s", key, strings.Join(keys, ", "))
	case boolean:
		if _, err := strconv.ParseBool(value); err != nil {
			return "", "", errkind.New(errkind.InvalidArgument, "image filter %s takes true or false, not %q", key, value)
		}
	case key == "digest" && !strings.HasPrefix(value, "sha256:"):
		return "", "", errkind.New(errkind.InvalidArgument, "image filter digest takes sha256:..., not %q", value)
	case key == "until":
		if _, err := timetype.GetTimestamp(value, time.Now()); err != nil {
			return "", "", errkind.New(errkind.InvalidArgument, "image filter until takes a time or a duration, not %q", value)
		}
	}
	return key, value, nil
}

// filtered returns the IDs of the images that pass every filter (nil: no
// filters, every image), as `buildah images --filter` selects them.
func filtered(st *store.State, filters []string) (map[string]bool, error) {
	if len(filters) == 0 {
		return nil, nil
	}
	for _, f := range filters {
		key, value, err := ParseFilter(f)
		if err != nil {
			return nil, err
		}
		if key == "before" || key == "since" || key == "after" {
			if _, err := ResolveLocal(st, value); err != nil { // typed, before libimage's untyped message
				return nil, err
			}
		}
	}
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	found, err := runtime.ListImages(context.Background(), &libimage.ListImagesOptions{Filters: filters})
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(found))
	for _, img := range found {
		ids[img.ID()] = true
	}
	return ids, nil
}
