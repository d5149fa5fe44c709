package state

import "log/slog"

// openState opens one bbolt state file for one target, as a run does once
// it knows the file.
func openState(path, provider, account, list string, log *slog.Logger) (*boltStore, error) {
	return openTarget(path, Target{Provider: provider, Account: account, List: list}, Options{Logger: log})
}

// commitWrites commits records alone.
func (s *boltStore) commitWrites(writes []Write) error { return s.Commit(writes, nil) }

// sampleKeys are the numbers sampleState writes.
func sampleKeys(n int) []uint64 {
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = uint64(33600000000 + i*7919)
	}
	return keys
}
