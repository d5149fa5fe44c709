//go:build linux || darwin || freebsd || netbsd || openbsd

package state

import (
	"errors"
	"os"
	"syscall"
	"time"

	boltErrors "go.etcd.io/bbolt/errors"
)

// lockFile takes the exclusive lock bbolt takes on its file (flock), so that
// the file can be checked before bbolt reads it and while no other run
// writes it: bbolt's own lock comes after it reads the file. bbolt then
// locks the same descriptor again, which succeeds at once.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH // a dry run's: beside other readers, never beside a writer
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return boltErrors.ErrTimeout
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unlockFile releases the lock without bbolt, which closing the file alone
// does not do while bbolt's memory map of it remains: the lock belongs to
// the open file, and the map keeps it open.
func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// inodeOf is the file's inode, part of what says it was not replaced.
func inodeOf(info os.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
