package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server CPU for BenchmarkPush: wall time on the project's shared 2-core
// machine swings with the other engineers' work, CPU time much less. The
// server's CPU is read from /proc/<backend pid>/stat, so it is known only
// when the server runs on this machine (and /proc is readable).

// backendCPU is the CPU time (user + system) of the server process pid.
func backendCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// clock ticks, which Linux reports at 100 Hz to user space
	return time.Duration(u+st) * 10 * time.Millisecond, true
}

// cpuSnapshot is the CPU time of every client backend of the database
// (nil when unknown) and of this process.
type cpuSnapshot struct {
	server map[int]time.Duration
	client time.Duration
}

func takeCPU(ctx context.Context, db *DB) cpuSnapshot {
	snap := cpuSnapshot{client: clientCPU()}
	rows, err := db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend'`)
	if err != nil {
		return snap
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return snap
	}
	m := map[int]time.Duration{}
	for _, pid := range pids {
		cpu, ok := backendCPU(int(pid))
		if !ok {
			return snap
		}
		m[int(pid)] = cpu
	}
	snap.server = m
	return snap
}

// cpuUse is the CPU used between two snapshots.
type cpuUse struct {
	server, client time.Duration
	serverKnown    bool
}

func cpuSince(before, after cpuSnapshot) cpuUse {
	u := cpuUse{client: after.client - before.client}
	if before.server == nil || after.server == nil {
		return u
	}
	u.serverKnown = true
	for pid, cpu := range after.server {
		u.server += cpu - before.server[pid] // a new backend counts from 0
	}
	return u
}

func (u cpuUse) total() time.Duration { return u.server + u.client }

func (u cpuUse) String() string {
	if !u.serverKnown {
		return fmt.Sprintf("client CPU %v, server CPU unknown (server not on this machine)", u.client.Round(10*time.Millisecond))
	}
	return fmt.Sprintf("server CPU %v + client CPU %v", u.server.Round(10*time.Millisecond), u.client.Round(10*time.Millisecond))
}

// phaseMeter is a DB.hook that prints, at the end of each load phase, its
// wall time, the CPU the load's backend used and this process's CPU.
type phaseMeter struct {
	w        io.Writer
	pid      int
	lastSrv  time.Duration
	lastCli  time.Duration
	lastWall time.Time
}

func (m *phaseMeter) hook(ctx context.Context, phase string, tx pgx.Tx) error {
	var pid int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return err
	}
	srv, ok := backendCPU(pid)
	cli := clientCPU()
	if pid == m.pid && !m.lastWall.IsZero() {
		s := "unknown"
		if ok {
			s = (srv - m.lastSrv).Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(m.w, "    %-26s wall %8v  server CPU %8s  client CPU %8v\n", phase,
			time.Since(m.lastWall).Round(time.Millisecond), s, (cli - m.lastCli).Round(time.Millisecond))
	} else {
		fmt.Fprintf(m.w, "    %-26s (phases from here)\n", phase)
	}
	m.pid, m.lastSrv, m.lastCli, m.lastWall = pid, srv, cli, time.Now()
	return nil
}
