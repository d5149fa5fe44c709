// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temporary directory, run as the postgres user when the tests run as
// root, on a free loopback port. Tests that need PostgreSQL call URL; it
// skips them when no PostgreSQL can be started, unless
// CONTACTSYNC_REQUIRE_POSTGRES=1 (CI sets it), which fails them instead.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is the one cluster of a test binary: starting one takes seconds.
var cluster struct {
	once sync.Once
	url  string
	err  error
	stop func()
	mu   sync.Mutex
	dbs  int
}

// URL returns the URL of a fresh, empty database in the shared cluster.
func URL(t testing.TB) string {
	t.Helper()
	cluster.once.Do(func() { cluster.url, cluster.stop, cluster.err = start() })
	if cluster.err != nil {
		if os.Getenv("CONTACTSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (CONTACTSYNC_REQUIRE_POSTGRES=1) but could not be started: %v", cluster.err)
		}
		t.Skipf("no PostgreSQL to test against: %v", cluster.err)
	}
	cluster.mu.Lock()
	cluster.dbs++
	name := fmt.Sprintf("test%d", cluster.dbs)
	cluster.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cluster.url)
	if err != nil {
		t.Fatalf("connecting to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	return strings.Replace(cluster.url, "/postgres?", "/"+name+"?", 1)
}

// Start starts a cluster of its own, for the benchmarks: its URL, and how
// to stop it.
func Start() (url string, stop func(), err error) { return start() }

// Stop stops the shared cluster; TestMain calls it after the tests.
func Stop() {
	if cluster.stop != nil {
		cluster.stop()
	}
}

// bin finds a PostgreSQL server program: on PATH, or in Debian's
// /usr/lib/postgresql/<version>/bin, the newest version first.
func bin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	if len(found) == 0 {
		return "", fmt.Errorf("%s is not installed (apt-get install postgresql)", name)
	}
	return found[0], nil
}

func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func start() (url string, stop func(), err error) {
	initdb, err := bin("initdb")
	if err != nil {
		return "", nil, err
	}
	pgctl, err := bin("pg_ctl")
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "contactsync-pg-")
	if err != nil {
		return "", nil, err
	}
	// The server refuses to run as root: it then runs as postgres.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w\n%s", filepath.Base(name), err, out.Bytes())
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", port, dir)
	if err := run(pgctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("%w\n%s", err, log)
	}
	stop = func() {
		run(pgctl, "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), stop, waitReady(port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
