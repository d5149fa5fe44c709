package importer

import (
	"bufio"
	"encoding/csv"
	"os"
	"strconv"

	"contactsync/providers"
)

// planWriter writes the --plan file of a dry run: one line per row of the
// file and per mirror deletion, saying what the run would do with it (add,
// update, upsert, skip, delete, reject) and why, so that a mirror run can be
// reviewed before it deletes. Like the rejects file, it uses the input's
// delimiter and a UTF-8 BOM, and neutralises cells a spreadsheet would run.
type planWriter struct {
	f   *os.File
	buf *bufio.Writer
	w   *csv.Writer
}

func newPlanWriter(path string, comma rune) (*planWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriter(f)
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(buf)
	w.Comma = comma
	if err := w.Write([]string{"row", "phone", "operation", "reason", "detail"}); err != nil {
		f.Close()
		return nil, err
	}
	return &planWriter{f: f, buf: buf, w: w}, nil
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
	return p.w.Write(neutralise([]string{row, e.phone, op, reason, detail}))
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

func (p *planWriter) close() error {
	p.w.Flush()
	err := p.w.Error()
	if err == nil {
		err = p.buf.Flush()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}
