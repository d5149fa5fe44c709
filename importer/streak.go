package importer

import (
	"contactsync/state"
	"fmt"

	"contactsync/providers"
)

// DefaultMaxStreak is --max-streak's default: a hundred contacts refused
// in a row for one reason. A file rarely holds that many consecutive rows
// that pass contactsync's own checks and that the provider still refuses for
// the same reason; an account or a request format the provider refuses makes
// every row fail alike, and would otherwise cost a request per row of the
// file.
const DefaultMaxStreak = 100

// streak is the collector's circuit breaker: the contacts the provider
// refused (or that failed) in a row for one reason, none added or updated
// between. Outcomes the planner decided alone (rows rejected by contactsync's
// checks, unchanged rows, duplicates) neither count nor break a streak.
type streak struct {
	reason string
	keys   []uint64
	// max is the length that stopped the run.
	max int
}

// add counts one outcome the provider decided and reports whether the
// streak just reached max (--max-streak; 0 never stops).
func (s *streak) add(e *event, max int) bool {
	switch {
	case max <= 0:
		return false
	case e.outcome == providers.Added || e.outcome == providers.Updated:
		s.reason, s.keys = "", s.keys[:0]
		return false
	case e.outcome != providers.Rejected && e.outcome != providers.Failed,
		e.reason == reasonAborted, e.reason == reasonInterrupted:
		return false
	}
	if e.reason != s.reason {
		s.reason, s.keys = e.reason, s.keys[:0]
	}
	s.keys = append(s.keys, e.key)
	s.max = max
	return len(s.keys) == max
}

// err says why the run stopped and what to do.
func (s *streak) err() error {
	return fmt.Errorf("the provider refused the last %d contacts in a row (%s) and accepted none between them: "+
		"the account, or the way contactsync writes to it, is more likely at fault than the rows; nothing more was sent. "+
		"The rows' detail is in the report and --rejects; fix the cause and run again (the refused rows are sent again), "+
		"or raise --max-streak (0 never stops)", s.max, s.reason)
}

// forget returns the state writes that forget the streak's refusals, so
// that the next run sends those rows again instead of reporting them as
// refused without sending them.
func (s *streak) forget() []state.Write {
	out := make([]state.Write, len(s.keys))
	for i, k := range s.keys {
		out[i] = state.Write{Key: k, Delete: true}
	}
	return out
}
