package record

import (
	"io"
	"os"
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
