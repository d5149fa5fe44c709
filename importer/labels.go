package importer

import (
	"contactsync/providers"
	"contactsync/state"
)

// rememberLabels notes the labels a provider with Capabilities.Labels
// (AmootSMS) says a contact holds once it confirmed a write, and forgets
// those of a contact deleted or found gone. The state keeps them per account
// rather than per list: such a provider holds one contact per number, an
// edit replaces its labels and no answer shows them, so the label a run into
// list A gave a contact survives a run into list B that edits it only if it
// is remembered across lists.
func (r *run) rememberLabels(e *event, writes *[]state.LabelWrite) {
	if r.state == nil || !r.caps.Labels || !e.sent {
		return
	}
	switch {
	case e.outcome == providers.Added || e.outcome == providers.Updated:
		if e.labels != "" {
			*writes = append(*writes, state.LabelWrite{Key: e.key, Labels: e.labels})
		}
	case e.deletion && (e.outcome == providers.Deleted || e.outcome == providers.Skipped):
		*writes = append(*writes, state.LabelWrite{Key: e.key, Labels: e.labels})
	}
}
