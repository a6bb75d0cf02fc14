package record

import (
	"io"
	"os"
	"sync/atomic"
)

// file is what the recorder needs of an open file; *os.File has it. Tests
// put a wrapper in between that fails like a full disk.
type file interface {
	io.Writer
	io.WriterAt
	io.Closer
	Sync() error
	Truncate(size int64) error
}

// openFunc opens a file for writing, like os.OpenFile.
type openFunc func(name string, flag int, perm os.FileMode) (file, error)

func osOpen(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// syncDir makes a directory's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// countingOpen opens files whose writes add their bytes to n. Overwrites in place (WriteAt,
// the duration patched at the end) add nothing.
func countingOpen(open openFunc, n *atomic.Int64) openFunc {
	return func(name string, flag int, perm os.FileMode) (file, error) {
		f, err := open(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return countingFile{f, n}, nil
	}
}

type countingFile struct {
	file
	n *atomic.Int64
}

func (c countingFile) Write(p []byte) (int, error) {
	k, err := c.file.Write(p)
	c.n.Add(int64(k))
	return k, err
}
