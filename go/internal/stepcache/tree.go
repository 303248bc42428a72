package stepcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tree lists the host inputs of a copy or add: each source (globs expanded,
// as Buildah expands them) under the name it lands as, its base name, or
// with parents the part after a "/./" pivot; directories recursively in
// lexical order; a source that is a symbolic link is listed as a link and
// as what it points at.  Host owners are not listed: local sources land
// owned by chown, or root, whatever their owner on the host.
func Tree(sources []string, parents bool) ([]File, error) {
	var files []File
	for _, source := range sources {
		matches := []string{source}
		if strings.ContainsAny(source, "*?[") {
			found, err := filepath.Glob(source)
			if err != nil {
				return nil, err
			}
			matches = found
		}
		for _, match := range matches {
			listed, err := walk(match, landingName(match, parents))
			if err != nil {
				return nil, err
			}
			files = append(files, listed...)
		}
	}
	return files, nil
}

// landingName is what a source's files are named after in the container.
func landingName(source string, parents bool) string {
	if parents {
		if _, after, ok := strings.Cut(source, "/./"); ok {
			return filepath.Clean(after)
		}
	}
	return filepath.Base(filepath.Clean(source))
}

func walk(root, name string) ([]File, error) {
	var files []File
	info, err := os.Lstat(root)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		link, err := describe(root, name, info)
		if err != nil {
			return nil, err
		}
		files = append(files, link)
		if _, err := os.Stat(root); err != nil {
			return files, nil // dangling: Buildah says so, the key need not
		}
		resolved, err := filepath.EvalSymlinks(root)
		if err != nil {
			return nil, err
		}
		root = resolved
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := describe(path, filepath.Join(name, rel), info)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

func describe(path, name string, info fs.FileInfo) (File, error) {
	f := File{Path: name, Mode: uint32(info.Mode().Perm())}
	mode := info.Mode()
	if mode&fs.ModeSetuid != 0 {
		f.Mode |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		f.Mode |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		f.Mode |= 0o1000
	}
	switch {
	case mode.IsRegular():
		f.Type = "f"
		sum, err := contentDigest(path, info)
		if err != nil {
			return File{}, err
		}
		f.Digest = sum
	case mode.IsDir():
		f.Type = "d"
	case mode&fs.ModeSymlink != 0:
		f.Type = "l"
		target, err := os.Readlink(path)
		if err != nil {
			return File{}, err
		}
		f.Digest = target
	case mode&fs.ModeNamedPipe != 0:
		f.Type = "p"
	case mode&fs.ModeSocket != 0:
		f.Type = "s"
	case mode&fs.ModeDevice != 0:
		f.Type = "b"
		if mode&fs.ModeCharDevice != 0 {
			f.Type = "c"
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			f.Digest = fmt.Sprintf("%d", st.Rdev)
		}
	}
	return f, nil
}

// settled: the file's times are older than the kernel's timestamp
// granularity (a clock tick, milliseconds), so a later write of the same
// size cannot leave them unchanged (git's "racy" entries, avoided the same way).
func settled(st *syscall.Stat_t) bool {
	limit := time.Now().Add(-2 * time.Second)
	return time.Unix(st.Mtim.Sec, st.Mtim.Nsec).Before(limit) && time.Unix(st.Ctim.Sec, st.Ctim.Nsec).Before(limit)
}

// statKey identifies a file's version well enough to reuse its digest: a
// write changes its mtime and ctime (nanoseconds), a replacement its inode.
type statKey struct {
	dev, ino, size uint64
	mtime, ctime   int64
	mtimeN, ctimeN int64
}

var digests sync.Map // path -> digestMemo

type digestMemo struct {
	key    statKey
	digest string
}

// contentDigest hashes a file, reusing the digest computed for the same
// path at the same (inode, size, mtime, ctime) earlier in this process.
func contentDigest(path string, info fs.FileInfo) (string, error) {
	st, ok := info.Sys().(*syscall.Stat_t)
	var key statKey
	if ok {
		key = statKey{uint64(st.Dev), st.Ino, uint64(st.Size), st.Mtim.Sec, st.Ctim.Sec, st.Mtim.Nsec, st.Ctim.Nsec} //nolint:unconvert // Dev is uint64 on amd64 only
		if memo, found := digests.Load(path); found && memo.(digestMemo).key == key {
			return memo.(digestMemo).digest, nil
		}
	}
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if ok && settled(st) {
		digests.Store(path, digestMemo{key: key, digest: sum})
	}
	return sum, nil
}
