# contactsync: see README.md. Needs only Go; tools come from go.mod.
GO       ?= go
BIN      := bin/contactsync
FUZZTIME ?= 1m

.PHONY: all build install demo test lint fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) .

# Puts contactsync in $(go env GOBIN), else $(go env GOPATH)/bin (~/go/bin),
# which must be on PATH.
install:
	$(GO) install .
	@bin="$$($(GO) env GOBIN)"; bin="$${bin:-$$($(GO) env GOPATH)/bin}"; \
	case ":$$PATH:" in *":$$bin:"*) echo "installed $$bin/contactsync";; \
	*) echo "installed $$bin/contactsync; $$bin is not on PATH: add it, e.g. export PATH=\"\$$PATH:$$bin\"";; esac

# Imports samples/contacts.csv into the built-in Octopush sandbox. The sample
# holds an invalid number on purpose, so exit code 1 (rows rejected) is a pass.
demo: build
	@mkdir -p out
	@./$(BIN) import samples/contacts.csv --provider octopush --sandbox --list customers --region FR \
		--report out/demo-report.json --rejects out/demo-rejects.csv; \
	status=$$?; [ $$status -le 1 ] || exit $$status
	@echo "JSON report: out/demo-report.json   rejected rows: out/demo-rejects.csv"

# vet, staticcheck, every test with -race, and a short run of each fuzz target.
# The short run is a count of executions per target (a few seconds each),
# not a duration: a wall-clock -fuzztime races Go's fuzz coordinator at the
# deadline and may fail with "context deadline exceeded" and no failing input
# (golang/go#75804, not fixed in Go 1.26), which would fail CI for nothing.
# FuzzStateOpen's inputs are state files of tens of KB: minimising each new
# one for the default 60 s would take longer than the fuzzing, so it gets a
# count of executions too.
test: lint
	$(GO) test -race -count=1 ./...
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzReader$$' -fuzztime 3000x
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzParsePhone$$' -fuzztime 30000x
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzPhoneFastPath$$' -fuzztime 30000x
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzChoosePhone$$' -fuzztime 10000x
	$(GO) test ./importer -run '^$$' -fuzz '^FuzzDryRunAccounting$$' -fuzztime 8000x
	$(GO) test ./state -run '^$$' -fuzz '^FuzzStateOpen$$' -fuzztime 3000x -fuzzminimizetime 100x

lint:
	@unformatted=$$(gofmt -l .); [ -z "$$unformatted" ] || { echo "gofmt needed: $$unformatted"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Each target for FUZZTIME (default 1m). A duration can end in a spurious
# "context deadline exceeded" with no failing input (golang/go#75804); a
# count such as FUZZTIME=200000x cannot.
fuzz:
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzParsePhone$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzPhoneFastPath$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mapping -run '^$$' -fuzz '^FuzzChoosePhone$$' -fuzztime $(FUZZTIME)
	$(GO) test ./importer -run '^$$' -fuzz '^FuzzDryRunAccounting$$' -fuzztime $(FUZZTIME)
	$(GO) test ./state -run '^$$' -fuzz '^FuzzStateOpen$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x

# Go benchmarks, then the binary on a generated 1M-row file: rows/s and peak
# RSS for a dry run and a sandbox import, and the rate --rate achieves; then
# peak RSS on rows near the 1 MiB row limit and on 100 MB listings, on a
# 200,000-row .xlsx workbook, and on the 1M-row file gzipped and downloaded.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./mapping ./importer
	$(GO) run ./internal/bench -bin $(BIN)

clean:
	rm -rf bin out
