package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL state keeps every target of every account in four tables
// (see schema), so many targets, hosts and containers share one database.
// A run holds a session-level advisory lock on its target's key for its
// whole length: a second run on the target, from any host, is refused, and
// the lock goes with the session if the process dies. Writes are
// transactions of confirmed batches; there is no journal to fold.

// schemaVersion is the version of the tables below. A database of a later
// version is refused; an earlier one is upgraded by the steps of migrations.
const schemaVersion = 1

// migrations[v] takes a database from version v to v+1.
var migrations = []string{
	`CREATE TABLE contactsync_numbers (
		provider    text     NOT NULL,
		account     text     NOT NULL,
		list        text     NOT NULL,
		number      bigint   NOT NULL,
		kind        smallint NOT NULL,
		fingerprint bigint   NOT NULL,
		id          text     NOT NULL DEFAULT '',
		reason      text     NOT NULL DEFAULT '',
		PRIMARY KEY (provider, account, list, number)
	);
	CREATE TABLE contactsync_labels (
		provider text   NOT NULL,
		account  text   NOT NULL,
		number   bigint NOT NULL,
		labels   text   NOT NULL,
		PRIMARY KEY (provider, account, number)
	);
	CREATE TABLE contactsync_downloads (
		provider   text  NOT NULL,
		account    text  NOT NULL,
		list       text  NOT NULL,
		url_digest bytea NOT NULL,
		download   jsonb NOT NULL,
		PRIMARY KEY (provider, account, list, url_digest)
	);
	CREATE TABLE contactsync_runs (
		provider text        NOT NULL,
		account  text        NOT NULL,
		list     text        NOT NULL,
		owner    text        NOT NULL,
		started  timestamptz NOT NULL,
		PRIMARY KEY (provider, account, list)
	);`,
}

// schemaLock serialises the creation and upgrade of the schema between runs
// that start at once.
const schemaLock = 0x636f6e7461637473 // "contacts"

type pgStore struct {
	t        Target
	where    string // the URL without its password, for messages
	pool     *pgxpool.Pool
	lock     *pgx.Conn // holds the target's advisory lock, and writes; nil when read-only
	lockMu   sync.Mutex
	readOnly bool
	empty    bool // read-only, and the schema does not exist: nothing to read
	// written counts the numbers this run wrote, and analysed what it had
	// written when the tables were last analysed (see analyse).
	written, analysed int
}

// analyseEvery is how many numbers a run writes before the tables are
// analysed again, at the least: a table whose statistics still say it is
// empty while a run fills it makes every lookup read a whole target.
const analyseEvery = 20_000

// opTimeout bounds one statement: a database that stops answering fails the
// run instead of hanging it.
const opTimeout = 2 * time.Minute

func openPostgres(where string, t Target, o Options) (Store, error) {
	safe := redactURL(where)
	cfg, err := pgxpool.ParseConfig(where)
	if err != nil {
		return nil, fmt.Errorf("the state %s is not a PostgreSQL URL: %w", safe, err) // pgx leaves the password out
	}
	if cfg.ConnConfig.Password == "" {
		cfg.ConnConfig.Password = o.Password
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["application_name"] = "contactsync"
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s := &pgStore{t: t, where: safe, readOnly: o.ReadOnly}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, s.fail("connecting to", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, s.fail("connecting to", err)
	}
	if o.ReadOnly {
		var exists bool
		err := s.pool.QueryRow(ctx, `SELECT to_regclass('contactsync_numbers') IS NOT NULL`).Scan(&exists)
		if err != nil {
			s.pool.Close()
			return nil, s.fail("reading", err)
		}
		s.empty = !exists
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	if err := s.acquire(ctx, o.Owner); err != nil {
		s.pool.Close()
		return nil, err
	}
	// What earlier runs wrote may not be analysed yet (autovacuum comes
	// when it comes), and a rerun looks every number up.
	if err := s.analyse(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// analyse refreshes the planner's statistics of the tables the lookups
// read, when more than a tenth of a table changed since they were taken (as
// autovacuum would, but now). It costs a sample of the table, a fraction of
// a second for millions of numbers.
func (s *pgStore) analyse(ctx context.Context) error {
	s.analysed = s.written
	var stale bool
	err := s.pool.QueryRow(ctx, `SELECT coalesce(bool_or(n_mod_since_analyze > 1000 + n_live_tup / 10), false)
		FROM pg_stat_user_tables WHERE relname IN ('contactsync_numbers', 'contactsync_labels')`).Scan(&stale)
	if err != nil {
		return s.fail("reading", err)
	}
	if !stale {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE contactsync_numbers, contactsync_labels`); err != nil {
		return s.fail("analysing", err)
	}
	return nil
}

// migrate creates the schema on first use, or upgrades it. A database at
// this version is only read: a user without CREATE rights runs once the
// tables exist.
func (s *pgStore) migrate(ctx context.Context) error {
	var current int
	err := s.pool.QueryRow(ctx, `SELECT version FROM contactsync_schema`).Scan(&current)
	switch {
	case err == nil && current == schemaVersion:
		return nil
	case err == nil && current > schemaVersion:
		return fmt.Errorf("the state %s was written by a newer contactsync (schema version %d; this one knows %d): upgrade contactsync", s.where, current, schemaVersion)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.fail("writing", err)
	}
	defer tx.Rollback(ctx)
	steps := []string{
		`SELECT pg_advisory_xact_lock(` + fmt.Sprint(int64(schemaLock)) + `)`,
		`CREATE TABLE IF NOT EXISTS contactsync_schema (version integer NOT NULL)`,
	}
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return s.fail("creating the tables of", err)
		}
	}
	version := 0
	err = tx.QueryRow(ctx, `SELECT version FROM contactsync_schema`).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO contactsync_schema (version) VALUES (0)`); err != nil {
			return s.fail("creating the tables of", err)
		}
	case err != nil:
		return s.fail("reading", err)
	case version > schemaVersion:
		return fmt.Errorf("the state %s was written by a newer contactsync (schema version %d; this one knows %d): upgrade contactsync", s.where, version, schemaVersion)
	}
	for ; version < schemaVersion; version++ {
		if _, err := tx.Exec(ctx, migrations[version]); err != nil {
			return s.fail("upgrading the tables of", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE contactsync_schema SET version = $1`, schemaVersion); err != nil {
		return s.fail("upgrading the tables of", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail("creating the tables of", err)
	}
	return nil
}

// acquire takes the target's advisory lock on a connection of its own, for
// the run's length, and records who holds it.
func (s *pgStore) acquire(ctx context.Context, owner string) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.fail("connecting to", err)
	}
	// The lock lives as long as this session: taken out of the pool, the
	// connection is closed by Close, or by the server when the process dies.
	conn := c.Hijack()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.t.lockKey()).Scan(&got); err != nil {
		conn.Close(ctx)
		return s.fail("locking", err)
	}
	if !got {
		held := "its owner is unknown"
		var who string
		var since time.Time
		err := conn.QueryRow(ctx, `SELECT owner, started FROM contactsync_runs WHERE provider = $1 AND account = $2 AND list = $3`,
			s.t.Provider, s.t.Account, s.t.List).Scan(&who, &since)
		if err == nil {
			held = fmt.Sprintf("%s, started %s", who, since.Local().Format(time.RFC3339))
		}
		conn.Close(ctx)
		return &LockedError{Target: s.t, Where: "the state " + s.where, Owner: held}
	}
	if owner == "" {
		owner = fmt.Sprintf("process %d", os.Getpid())
	}
	if host, err := os.Hostname(); err == nil {
		owner += " on " + host
	}
	_, err = conn.Exec(ctx, `INSERT INTO contactsync_runs (provider, account, list, owner, started) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (provider, account, list) DO UPDATE SET owner = excluded.owner, started = excluded.started`,
		s.t.Provider, s.t.Account, s.t.List, owner)
	if err != nil {
		conn.Close(ctx)
		return s.fail("writing", err)
	}
	s.lock = conn
	return nil
}

func (s *pgStore) Lookup(keys []uint64, out []Record) error {
	// One index probe per number, whatever the table's statistics say: with
	// "number = ANY($4)" a table just filled by a run, not yet analysed,
	// was read whole for every chunk.
	return probe(s, keys, out, `SELECT k.number, n.kind, n.fingerprint, n.id, n.reason FROM unnest($4::bigint[]) AS k(number)
		CROSS JOIN LATERAL (SELECT kind, fingerprint, id, reason FROM contactsync_numbers
			WHERE provider = $1 AND account = $2 AND list = $3 AND number = k.number) AS n`,
		[]any{s.t.Provider, s.t.Account, s.t.List}, scanRecord)
}

func (s *pgStore) Commit(writes []Write, labels []LabelWrite) error {
	if s.readOnly {
		return errors.New("a read-only state is never written")
	}
	if len(writes) == 0 && len(labels) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	// On the session that holds the target's lock: were that session lost
	// (the server restarted, a network cut), another run could take the
	// target, and this one must stop writing rather than write beside it.
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	tx, err := s.lock.Begin(ctx)
	if err != nil {
		return s.fail("writing", err)
	}
	defer tx.Rollback(ctx)
	if err := s.commitLabels(ctx, tx, labels); err != nil {
		return err
	}
	// A number written twice in one commit keeps its last write: one
	// statement cannot change a row twice.
	var put, del []Write
	for _, w := range lastBy(writes, func(w Write) uint64 { return w.Key }) {
		if w.Delete {
			del = append(del, w)
		} else {
			put = append(put, w)
		}
	}
	if len(del) > 0 {
		nums := make([]int64, len(del))
		for i, w := range del {
			nums[i] = int64(w.Key)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM contactsync_numbers WHERE provider = $1 AND account = $2 AND list = $3 AND number = ANY($4)`,
			s.t.Provider, s.t.Account, s.t.List, nums); err != nil {
			return s.fail("writing", err)
		}
	}
	if len(put) > 0 {
		nums, kinds, fps := make([]int64, len(put)), make([]int16, len(put)), make([]int64, len(put))
		ids, reasons := make([]string, len(put)), make([]string, len(put))
		for i, w := range put {
			nums[i], kinds[i], fps[i] = int64(w.Key), int16(w.Record.Kind), int64(w.Record.Fingerprint)
			ids[i], reasons[i] = w.Record.ID, w.Record.Reason
		}
		_, err := tx.Exec(ctx, `INSERT INTO contactsync_numbers (provider, account, list, number, kind, fingerprint, id, reason)
			SELECT $1, $2, $3, * FROM unnest($4::bigint[], $5::smallint[], $6::bigint[], $7::text[], $8::text[])
			ON CONFLICT (provider, account, list, number) DO UPDATE
			SET kind = excluded.kind, fingerprint = excluded.fingerprint, id = excluded.id, reason = excluded.reason`,
			s.t.Provider, s.t.Account, s.t.List, nums, kinds, fps, ids, reasons)
		if err != nil {
			return s.fail("writing", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail("writing", err)
	}
	// Doubling the numbers written since the last analysis analyses again.
	if s.written += len(put) + len(labels); s.written-s.analysed >= max(analyseEvery, s.analysed) {
		return s.analyse(ctx)
	}
	return nil
}

func (s *pgStore) commitLabels(ctx context.Context, tx pgx.Tx, labels []LabelWrite) error {
	var forget, keep []int64
	var values []string
	for _, l := range lastBy(labels, func(l LabelWrite) uint64 { return l.Key }) {
		if l.Labels == "" {
			forget = append(forget, int64(l.Key))
		} else {
			keep, values = append(keep, int64(l.Key)), append(values, l.Labels)
		}
	}
	if len(forget) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM contactsync_labels WHERE provider = $1 AND account = $2 AND number = ANY($3)`,
			s.t.Provider, s.t.Account, forget); err != nil {
			return s.fail("writing", err)
		}
	}
	if len(keep) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO contactsync_labels (provider, account, number, labels)
			SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[])
			ON CONFLICT (provider, account, number) DO UPDATE SET labels = excluded.labels`,
			s.t.Provider, s.t.Account, keep, values); err != nil {
			return s.fail("writing", err)
		}
	}
	return nil
}

func (s *pgStore) Sent(fn func(key uint64, r Record)) error {
	if s.empty {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT number, kind, fingerprint, id, reason FROM contactsync_numbers
		WHERE provider = $1 AND account = $2 AND list = $3 AND kind IN ($4, $5) ORDER BY number`,
		s.t.Provider, s.t.Account, s.t.List, int16(Added), int16(Updated))
	return eachRow(s, rows, err, scanRecord, fn)
}

// scanner reads a row that starts with a number.
type scanner[T any] func(pgx.Rows) (uint64, T, error)

// scanRecord reads (number, kind, fingerprint, id, reason).
func scanRecord(rows pgx.Rows) (uint64, Record, error) {
	var n, fp int64
	var kind int16
	var r Record
	err := rows.Scan(&n, &kind, &fp, &r.ID, &r.Reason)
	r.Kind, r.Fingerprint = Kind(kind), uint64(fp)
	return uint64(n), r, err
}

// scanLabels reads (number, labels).
func scanLabels(rows pgx.Rows) (uint64, string, error) {
	var n int64
	var l string
	err := rows.Scan(&n, &l)
	return uint64(n), l, err
}

// eachRow calls fn with what scan reads of each row of a query.
func eachRow[T any](s *pgStore, rows pgx.Rows, queryErr error, scan scanner[T], fn func(uint64, T)) error {
	if queryErr != nil {
		return s.fail("reading", queryErr)
	}
	defer rows.Close()
	for rows.Next() {
		n, v, err := scan(rows)
		if err != nil {
			return s.fail("reading", err)
		}
		fn(n, v)
	}
	if err := rows.Err(); err != nil {
		return s.fail("reading", err)
	}
	return nil
}

// probe puts in out, in the order of keys, what scan reads of each number
// query finds, its zero value for the others; query takes args, then keys
// as a bigint[]. A number twice among keys gets its value twice.
func probe[T any](s *pgStore, keys []uint64, out []T, query string, args []any, scan scanner[T]) error {
	clear(out)
	if s.empty || len(keys) == 0 {
		return nil
	}
	nums := make([]int64, len(keys))
	for i, k := range keys {
		nums[i] = int64(k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, query, append(args, nums)...)
	got := make(map[uint64]T, len(keys))
	if err := eachRow(s, rows, err, scan, func(n uint64, v T) { got[n] = v }); err != nil {
		return err
	}
	for i, k := range keys {
		out[i] = got[k]
	}
	return nil
}

func (s *pgStore) Labels(keys []uint64, out []string) error {
	return probe(s, keys, out, `SELECT k.number, l.labels FROM unnest($3::bigint[]) AS k(number)
		CROSS JOIN LATERAL (SELECT labels FROM contactsync_labels WHERE provider = $1 AND account = $2 AND number = k.number) AS l`,
		[]any{s.t.Provider, s.t.Account}, scanLabels)
}

func (s *pgStore) Download(url string) (Download, error) {
	var d Download
	if s.empty {
		return d, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT download FROM contactsync_downloads WHERE provider = $1 AND account = $2 AND list = $3 AND url_digest = $4`,
		s.t.Provider, s.t.Account, s.t.List, urlDigest(url)).Scan(&raw)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return d, nil
	case err != nil:
		return d, s.fail("reading", err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return Download{}, fmt.Errorf("reading the state %s: %w", s.where, err)
	}
	return d, nil
}

func (s *pgStore) SetDownload(url string, d *Download) error {
	if s.readOnly {
		return errors.New("a read-only state is never written")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	var err error
	if d == nil {
		_, err = s.lock.Exec(ctx, `DELETE FROM contactsync_downloads WHERE provider = $1 AND account = $2 AND list = $3 AND url_digest = $4`,
			s.t.Provider, s.t.Account, s.t.List, urlDigest(url))
	} else {
		var raw []byte
		if raw, err = json.Marshal(d); err != nil {
			return err
		}
		_, err = s.lock.Exec(ctx, `INSERT INTO contactsync_downloads (provider, account, list, url_digest, download) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (provider, account, list, url_digest) DO UPDATE SET download = excluded.download`,
			s.t.Provider, s.t.Account, s.t.List, urlDigest(url), raw)
	}
	if err != nil {
		return s.fail("writing", err)
	}
	return nil
}

func (s *pgStore) Close() error {
	var err error
	if s.lock != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, e := s.lock.Exec(ctx, `DELETE FROM contactsync_runs WHERE provider = $1 AND account = $2 AND list = $3`,
			s.t.Provider, s.t.Account, s.t.List); e != nil {
			err = s.fail("writing", e)
		}
		s.lock.Close(ctx) // ends the session, and with it the lock
	}
	s.pool.Close()
	return err
}

// fail words a database error for the user, naming the state without its
// password.
func (s *pgStore) fail(doing string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s the state %s: %s (%s)", doing, s.where, pe.Message, pe.Code)
	}
	return fmt.Errorf("%s the state %s: %w", doing, s.where, err)
}

// lastBy keeps the last write of each number, in order of first write.
func lastBy[T any](writes []T, key func(T) uint64) []T {
	pos := make(map[uint64]int, len(writes))
	out := make([]T, 0, len(writes))
	for _, w := range writes {
		if i, ok := pos[key(w)]; ok {
			out[i] = w
			continue
		}
		pos[key(w)] = len(out)
		out = append(out, w)
	}
	return slices.Clip(out)
}

// redactURL drops the password of a database URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable PostgreSQL URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pgAccounts lists the accounts whose state of the provider's list the
// database holds.
func pgAccounts(where, provider, list string) ([]string, error) {
	s, err := openPostgres(where, Target{Provider: provider, List: list}, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	p := s.(*pgStore)
	defer p.Close()
	if p.empty {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := p.pool.Query(ctx, `SELECT DISTINCT account FROM contactsync_numbers WHERE provider = $1 AND list = $2 ORDER BY account`, provider, list)
	if err != nil {
		return nil, p.fail("reading", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, p.fail("reading", err)
	}
	return found, nil
}
