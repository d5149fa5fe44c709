package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"contactsync/providers/octopush"
)

// measureWide runs a dry run of a file of rows close to the 1 MiB row
// limit: 300 rows whose one cell holds 1 MB, in a mapped column (the first
// name) and in a column the mapping ignores, then imports the first into an
// emulator in another process. Memory must not grow with the width of rows,
// only with their number.
func measureWide(bin, dir string) {
	var mapped string
	for _, c := range []struct{ name, header string }{
		{"mapped", "first name,last name,mobile,notes"},
		{"ignored", "notes,last name,mobile,first name"},
	} {
		file := filepath.Join(dir, "wide-"+c.name+".csv")
		if _, err := os.Stat(file); err != nil {
			check(writeWide(file, c.header, 300, 1_000_000))
		}
		measure(bin, dir, "dry run, 1 MB cells "+c.name, file, "--dry-run")
		if mapped == "" {
			mapped = file
		}
	}
	url, stop := emulatorProcess(0)
	defer stop()
	env := []string{"OCTOPUSH_API_LOGIN=" + octopush.SandboxLogin, "OCTOPUSH_API_KEY=" + octopush.SandboxKey}
	imp := measureEnv(bin, dir, "import, 1 MB cells mapped", mapped, env, "--endpoint", url, "--rate", "0")
	fmt.Printf("%-34s %10d contacts sent in %d requests\n", "wide import", imp.sent, imp.requests)
}

// writeWide writes rows rows whose first cell is width bytes long.
func writeWide(path, header string, rows, width int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cell := strings.Repeat("abcdefghij", width/10)
	fmt.Fprintln(w, header)
	for i := range rows {
		fmt.Fprintf(w, "%s,L%d,06 %08d,n\n", cell, i, 10000000+i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// measureListings imports a one-row file into an account whose listing,
// read before anything is sent, is about size bytes: AmootSMS's ContactList
// and AvoSMS's list/information, each with ordinary records and with one
// record holding all of it, and an AmootSMS answer whose Status is. The listing is generated as it is sent, so that
// this process stays small (its pages would count in the child's peak RSS).
func measureListings(bin, dir string, size int) {
	file := filepath.Join(dir, "one.csv")
	check(os.WriteFile(file, []byte("first name,last name,mobile\nA,B,09121234567\n"), 0o644))
	for _, l := range []struct {
		name, provider, list, env, shape string
		write                            func(io.Writer, int)
	}{
		{"amootsms ContactList", "amootsms", "customers", "AMOOTSMS_TOKEN=bench-token", "records", writeAmootList},
		{"amootsms ContactList", "amootsms", "customers", "AMOOTSMS_TOKEN=bench-token", "one record", writeAmootRecord},
		{"amootsms ContactList", "amootsms", "customers", "AMOOTSMS_TOKEN=bench-token", "one Status", writeAmootStatus},
		{"avosms list/information", "avosms", "1001", "AVOSMS_ID=bench@example.com AVOSMS_KEY=bench-key", "records", writeAvoList},
		{"avosms list/information", "avosms", "1001", "AVOSMS_ID=bench@example.com AVOSMS_KEY=bench-key", "one record", writeAvoRecord},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if strings.HasSuffix(r.URL.Path, "/ContactList") || strings.HasSuffix(r.URL.Path, "/list/information") {
				bw := bufio.NewWriterSize(w, 64<<10)
				l.write(bw, size)
				bw.Flush()
				return
			}
			// The one contact's write: confirmed as each API documents.
			if l.provider == "amootsms" {
				io.WriteString(w, `{"Status":"Success","Data":{"ID":1}}`)
			} else {
				io.WriteString(w, `{"status":"success","code":"OK"}`)
			}
		}))
		cmd := exec.Command(bin, "import", file, "--provider", l.provider, "--list", l.list, "--endpoint", srv.URL,
			"--state", "none", "--quiet", "--retries", "1")
		cmd.Env = append(os.Environ(), strings.Fields(l.env)...)
		// Only the end of stderr is kept: a message may be as large as the
		// answer, and this process must stay small.
		stderr := &tail{max: 4 << 10}
		cmd.Stderr = stderr
		start := time.Now()
		cmd.Run()
		wall := time.Since(start)
		srv.Close()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		outcome := fmt.Sprintf("exit %d", cmd.ProcessState.ExitCode())
		if msg := lastLine(string(stderr.buf)); cmd.ProcessState.ExitCode() > 1 && msg != "" {
			outcome += ": " + msg
		}
		fmt.Printf("%-34s %9.2fs %7.1f MB  %s\n", fmt.Sprintf("%s, %d MB in %s", l.name, size>>20, l.shape), wall.Seconds(), float64(rss)/1024, outcome)
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return n, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 160 {
		l = l[:160] + "…"
	}
	return l
}

// writeAmootRecord writes a ContactList answer of one contact of size
// bytes.
func writeAmootRecord(w io.Writer, size int) {
	io.WriteString(w, `{"Status":"Success","Data":[{"ID":1,"Mobile":989120000000,"FName":"`)
	writeFiller(w, size)
	io.WriteString(w, `","Labels":["customers"]}]}`)
}

// writeAmootStatus writes an answer whose Status is size bytes long, which
// an error message used to quote whole.
func writeAmootStatus(w io.Writer, size int) {
	io.WriteString(w, `{"Status":"`)
	writeFiller(w, size)
	io.WriteString(w, `"}`)
}

// writeAmootList writes a ContactList answer of about size bytes of
// ordinary contacts.
func writeAmootList(w io.Writer, size int) {
	io.WriteString(w, `{"Status":"Success","Data":[`)
	for i, n := 0, 0; n < size; i++ {
		if i > 0 {
			io.WriteString(w, ",")
		}
		k, _ := fmt.Fprintf(w, `{"ID":%d,"ContactGroupID":0,"Active":true,"Mobile":98912%07d,"FName":"Prénom %d","LName":"Nom %d","GenderType":true,`+
			`"CompanyTitle":"","JobTitle":"","Email":"c%d@example.com","CityName":"Tehran","AddressText":"","BornDate":"1980-01-01",`+
			`"AnniversaryDate":null,"CustomText1":"a","CustomText2":"","CustomText3":"","CustomText4":"","CustomText5":"","CustomText6":"",`+
			`"CustomDate1":null,"CustomDate2":null,"CustomDate3":null,"Labels":["customers","label %d"]}`, i+1, i, i, i, i, i%100)
		n += k
	}
	io.WriteString(w, "]}")
}

const avoListHead = `{"status":"success","code":"OK","list_contact_name":"bench","list_contact_country_name":"France",` +
	`"list_contact_country_code":"FR","list_contact_creation_date":"2024-01-01 00:00:00","list_contact":[`

// writeAvoRecord writes a list/information answer of one contact of size
// bytes.
func writeAvoRecord(w io.Writer, size int) {
	io.WriteString(w, avoListHead+`{"contact_telephone_number":"+33612345678","contact_other":"`)
	writeFiller(w, size)
	io.WriteString(w, `"}]}`)
}

// writeAvoList writes a list/information answer of about size bytes of
// ordinary contacts.
func writeAvoList(w io.Writer, size int) {
	io.WriteString(w, avoListHead)
	for i, n := 0, 0; n < size; i++ {
		if i > 0 {
			io.WriteString(w, ",")
		}
		k, _ := fmt.Fprintf(w, `{"contact_civility":"Mme","contact_name":"Nom %d","contact_first_name":"Prénom %d",`+
			`"contact_telephone_number":"+336%08d","contact_email":"c%d@example.com","contact_birthday":"01/01/1980",`+
			`"contact_other":"client fidèle depuis 2019, magasin de Lyon, préfère les SMS le matin, %d achats cette année"}`, i, i, i, i, i%50)
		n += k
	}
	io.WriteString(w, "]}")
}

// writeFiller writes size bytes of text a piece at a time, so that this
// process never holds them.
func writeFiller(w io.Writer, size int) {
	piece := strings.Repeat("x", 64<<10)
	for n := 0; n < size; n += len(piece) {
		io.WriteString(w, piece)
	}
}
