package importer

import (
	"strconv"

	"contactsync/providers"
)

// planWriter writes the --plan file of a dry run: one line per row of the
// file and per mirror deletion, saying what the run would do with it (add,
// update, upsert, skip, delete, reject) and why, so that a mirror run can be
// reviewed before it deletes. It is a sheetFile, as the rejects file is.
type planWriter struct{ *sheetFile }

func newPlanWriter(path string, comma rune) (*planWriter, error) {
	f, err := createSheetFile(path, comma, []string{"row", "phone", "operation", "reason", "detail"})
	if err != nil {
		return nil, err
	}
	return &planWriter{f}, nil
}

// write adds the line of one event. A row that was never planned (a halt
// kept it from being read) has none.
func (p *planWriter) write(e *event, detail string) error {
	var op, reason string
	switch {
	case e.deletion:
		op, reason = planOperation(e.planned), "not_in_file"
	case e.planned != 0:
		op = planOperation(e.planned)
	case e.outcome == providers.Skipped:
		op, reason = "skip", e.reason
	case e.outcome == providers.Rejected:
		op, reason = "reject", e.reason
	default:
		return nil
	}
	row := ""
	if !e.deletion {
		row = strconv.Itoa(e.line)
	}
	return p.sheetFile.write([]string{row, e.phone, op, reason, detail})
}

// planOperation names an operation as the plan shows it: OpCreate is an
// add, and an upsert is sent to a provider that decides itself whether it
// adds or updates.
func planOperation(op providers.Op) string {
	if op == providers.OpCreate {
		return "add"
	}
	return op.String()
}
