package service

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

//go:embed rules/*.sql
var rulesFS embed.FS

// Rule is a named SQL query over the graph and the change log. It returns
// one row per match with the columns key (the object's _key: matches are
// deduplicated per rule, instance and key), type (the object's _type: a
// match of a type the run collected partially does not fire), summary
// (text) and run_id (the sync_run of the change, or NULL for a rule over
// the graph's state). It may use the named parameters @instance_id (the
// graph's instance id), @after_run and @run: the changes to look at are
// those of runs after @after_run up to @run.
//
// Built-in rules come from the SDK (sdk/service/rules: generic rules over
// the data model's classes, for every instance) and from the integrations
// of the registry (Definition.Rules: rules over an integration's own
// types, for its instances only).
type Rule struct {
	Name        string
	Description string
	Query       string
	Builtin     bool
	// Integration is set on a rule an integration registered: it runs
	// for that integration's instances only. "": every instance.
	Integration string
	// Destination is "log" or a webhook URL.
	Destination string
	Enabled     bool
}

// Match is one row of a rule.
type Match struct {
	Rule, Instance    string
	Key, Type         string
	Summary           string
	RunID             *int64
	AlreadyFired      bool
	PartialSuppressed bool
}

// builtinRules returns the SDK's generic rules and those the registry's
// integrations registered (Definition.Rules), with Integration set on the
// latter. Two rules of one name are an error naming both origins.
func builtinRules(reg *Registry) ([]Rule, error) {
	out, err := readRules(rulesFS, "rules", "")
	if err != nil {
		return nil, err
	}
	origin := map[string]string{}
	for _, r := range out {
		origin[r.Name] = "the SDK"
	}
	for _, name := range reg.Names() {
		fsys := reg.defs[name].rules()
		if fsys == nil {
			continue
		}
		rs, err := readRules(fsys, ".", name)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if o, dup := origin[r.Name]; dup {
				return nil, fmt.Errorf("service: alert rule %s of integration %s: %s has a rule of that name", r.Name, name, o)
			}
			origin[r.Name] = "integration " + name
		}
		out = append(out, rs...)
	}
	return out, nil
}

// readRules reads the *.sql files of dir in fsys as built-in rules of
// integration ("" for the SDK's).
func readRules(fsys fs.FS, dir, integration string) ([]Rule, error) {
	who := "the SDK"
	if integration != "" {
		who = "integration " + integration
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("service: alert rules of %s: %w", who, err)
	}
	var out []Rule
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("service: alert rule file %s of %s: want a name of letters, digits, '.', '_' or '-'", e.Name(), who)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("service: alert rule %s of %s: %w", name, who, err)
		}
		out = append(out, Rule{Name: name, Description: ruleDescription(string(b)), Query: string(b), Builtin: true, Integration: integration})
	}
	return out, nil
}

// installBuiltinRules inserts or refreshes the built-in rules (keeping an
// operator's destination and enabled choice), after checking that each
// one parses and returns the required columns: a broken rule fails Open
// with its name instead of failing every evaluation.
func installBuiltinRules(ctx context.Context, tx pgx.Tx, reg *Registry) error {
	rules, err := builtinRules(reg)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := checkRuleSQL(ctx, tx, r.Query); err != nil {
			return fmt.Errorf("service: alert rule %s: %w", r.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alert_rule (name, description, query, builtin, integration) VALUES ($1, $2, $3, true, nullif($4, ''))
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, query = excluded.query, builtin = true, integration = excluded.integration
			WHERE alert_rule.builtin AND (alert_rule.query, alert_rule.description, alert_rule.integration) IS DISTINCT FROM (excluded.query, excluded.description, excluded.integration)`,
			r.Name, r.Description, r.Query, r.Integration); err != nil {
			return fmt.Errorf("service: install rule %s: %w", r.Name, err)
		}
	}
	return nil
}

// ruleDescription is the leading comment of a rule's SQL.
func ruleDescription(q string) string {
	var parts []string
	for _, l := range strings.Split(q, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "--") {
			break
		}
		parts = append(parts, strings.TrimSpace(strings.TrimPrefix(l, "--")))
	}
	return strings.Join(parts, " ")
}

// Rules lists the alert rules.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, description, query, builtin, coalesce(integration, ''), destination, enabled FROM alert_rule ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Rule, error) {
		var x Rule
		err := r.Scan(&x.Name, &x.Description, &x.Query, &x.Builtin, &x.Integration, &x.Destination, &x.Enabled)
		return &x, err
	})
}

// CheckDestination accepts "log", an http(s) webhook URL, or a
// reference (env:NAME or file:PATH) to a webhook URL that the workers
// resolve, for URLs that carry a token and so must stay out of the
// database.
func CheckDestination(d string) error {
	if d == "log" {
		return nil
	}
	if strings.HasPrefix(d, "env:") || strings.HasPrefix(d, "file:") {
		_, err := ParseSecretRef(d)
		return err
	}
	return checkWebhookURL(d)
}

func checkWebhookURL(d string) error {
	u, err := url.Parse(d)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("destination: want log, an http(s) webhook URL, or env:NAME / file:PATH naming one on the workers")
	}
	return nil
}

// SetRule adds a rule or changes one: a nil query keeps the stored one
// (required for a new rule), destination "" keeps it, enabled nil keeps it.
func (s *Service) SetRule(ctx context.Context, name string, query *string, destination string, enabled *bool) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("rule name %q: want letters, digits, '.', '_' or '-'", name)
	}
	if destination != "" {
		if err := CheckDestination(destination); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var exists, builtin bool
		err := tx.QueryRow(ctx, `SELECT true, builtin FROM alert_rule WHERE name = $1 FOR UPDATE`, name).Scan(&exists, &builtin)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if query != nil {
			if builtin {
				return fmt.Errorf("rule %s is built in: its query cannot change (add a rule of another name)", name)
			}
			if err := checkRuleSQL(ctx, tx, *query); err != nil {
				return fmt.Errorf("rule %s: %w", name, err)
			}
		}
		if !exists {
			if query == nil {
				return fmt.Errorf("rule %s: %w (give its SQL to add it)", name, ErrNotFound)
			}
			if destination == "" {
				destination = "log"
			}
			_, err := tx.Exec(ctx, `INSERT INTO alert_rule (name, description, query, destination, enabled) VALUES ($1, $2, $3, $4, coalesce($5, true))`,
				name, ruleDescription(*query), *query, destination, enabled)
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE alert_rule SET query = coalesce($2, query), description = coalesce($3, description),
			destination = coalesce(nullif($4, ''), destination), enabled = coalesce($5, enabled), updated_at = now() WHERE name = $1`,
			name, query, descriptionOf(query), destination, enabled)
		return err
	})
}

func descriptionOf(q *string) *string {
	if q == nil {
		return nil
	}
	d := ruleDescription(*q)
	return &d
}

// checkRuleSQL runs a rule once against an empty range to check that it
// parses and returns the required columns.
func checkRuleSQL(ctx context.Context, tx pgx.Tx, q string) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sp.Rollback(ctx) }()
	rows, err := sp.Query(ctx, wrapRule(q), pgx.NamedArgs{"instance_id": int64(-1), "after_run": int64(0), "run": int64(0)})
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

func wrapRule(q string) string {
	q = strings.TrimRight(strings.TrimSpace(q), ";")
	return "SELECT m.key::text, m.type::text, m.summary::text, m.run_id::bigint FROM (\n" + q + "\n) AS m"
}

// ruleMatches runs one rule over an instance's runs (afterRun, run].
func ruleMatches(ctx context.Context, tx pgx.Tx, q string, sinkID, afterRun, run int64) ([]Match, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	// A range holding the instance's baseline run (its first load) reads
	// the whole graph as added through the change_log view: planned with
	// hash joins, not nested loops, which a misestimated filter over the
	// graph would otherwise pick with that view on the inner side.
	var baseline bool
	if err := sp.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_run WHERE instance_id = $1 AND baseline AND id > $2 AND id <= $3)`,
		sinkID, afterRun, run).Scan(&baseline); err != nil {
		_ = sp.Rollback(ctx)
		return nil, err
	}
	if baseline {
		if _, err := sp.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
			_ = sp.Rollback(ctx)
			return nil, err
		}
	}
	rows, err := sp.Query(ctx, wrapRule(q), pgx.NamedArgs{"instance_id": sinkID, "after_run": afterRun, "run": run})
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil, err
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Match, error) {
		var m Match
		var key, typ, sum *string
		if err := r.Scan(&key, &typ, &sum, &m.RunID); err != nil {
			return m, err
		}
		if key != nil {
			m.Key = *key
		}
		if typ != nil {
			m.Type = *typ
		}
		if sum != nil {
			m.Summary = *sum
		}
		return m, nil
	})
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil, err
	}
	if baseline {
		if _, err := sp.Exec(ctx, `RESET enable_nestloop`); err != nil {
			_ = sp.Rollback(ctx)
			return nil, err
		}
	}
	return ms, sp.Commit(ctx)
}

// loadedRuns returns the instance's loaded sync runs after afterRun with
// their partial types, and the newest one.
func loadedRuns(ctx context.Context, tx pgx.Tx, sinkID, afterRun int64) (map[int64]map[string]bool, int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, partial_types FROM sync_run WHERE instance_id = $1 AND id > $2 AND status IN ('success', 'partial') ORDER BY id`, sinkID, afterRun)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[int64]map[string]bool{}
	var last int64
	for rows.Next() {
		var id int64
		var types []string
		if err := rows.Scan(&id, &types); err != nil {
			return nil, 0, err
		}
		set := map[string]bool{}
		for _, t := range types {
			set[t] = true
		}
		out[id] = set
		last = id
	}
	return out, last, rows.Err()
}

func sinkInstanceID(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, inst *Instance) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM instance WHERE integration = $1 AND name = $2`, inst.Integration, inst.Name).Scan(&id)
	return id, err
}

// evaluateAlerts runs every enabled rule over the instance's loaded runs
// that no evaluation has seen yet, fires the new matches (one event per
// rule, instance and object, ever) and enqueues their deliveries, all in
// one transaction: a crash evaluates the same runs again and fires nothing
// twice. Matches of a type that the run of the change (or, for a state
// rule, the newest run) collected partially do not fire.
func (s *Service) evaluateAlerts(ctx context.Context, inst *Instance, w *Worker) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var after int64
		if err := tx.QueryRow(ctx, `SELECT alerts_run_id FROM service_instance WHERE id = $1 FOR UPDATE`, inst.ID).Scan(&after); err != nil {
			return err
		}
		sinkID, err := sinkInstanceID(ctx, tx, inst)
		if err != nil {
			return err
		}
		runs, last, err := loadedRuns(ctx, tx, sinkID, after)
		if err != nil || last == 0 {
			return err
		}
		rules, err := enabledRules(ctx, tx, inst.Integration)
		if err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for _, r := range rules {
			ms, err := ruleMatches(ctx, tx, r.Query, sinkID, after, last)
			if err != nil {
				w.log.Error("alert rule failed", "rule", r.Name, "instance", inst.Name, "err", err)
				continue
			}
			for _, m := range ms {
				partial := runs[last]
				if m.RunID != nil && runs[*m.RunID] != nil {
					partial = runs[*m.RunID]
				}
				if m.Key == "" || partial[m.Type] {
					continue
				}
				var id int64
				err := tx.QueryRow(ctx, `INSERT INTO alert_event (rule, instance_id, object_key, object_type, summary, sync_run_id, destination)
					VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (rule, instance_id, object_key) DO NOTHING RETURNING id`,
					r.Name, inst.ID, m.Key, m.Type, m.Summary, m.RunID, r.Destination).Scan(&id)
				if errors.Is(err, pgx.ErrNoRows) {
					continue // fired before
				}
				if err != nil {
					return err
				}
				jobs = append(jobs, river.InsertManyParams{Args: AlertArgs{Event: id}, InsertOpts: &river.InsertOpts{
					Queue: queueControl, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}})
			}
		}
		if len(jobs) > 0 {
			if _, err := s.queue.InsertManyTx(ctx, tx, jobs); err != nil {
				return err
			}
			w.stats.AlertsFired.Add(int64(len(jobs)))
			w.log.Info("alerts fired", "instance", inst.Name, "count", len(jobs))
		}
		_, err = tx.Exec(ctx, `UPDATE service_instance SET alerts_run_id = $2 WHERE id = $1`, inst.ID, last)
		return err
	})
}

// enabledRules returns the enabled rules that run for the instances of
// integration: the SDK's, the operators' and that integration's own.
func enabledRules(ctx context.Context, tx pgx.Tx, integration string) ([]*Rule, error) {
	rows, err := tx.Query(ctx, `SELECT name, query, destination FROM alert_rule WHERE enabled AND (integration IS NULL OR integration = $1) ORDER BY name`, integration)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Rule, error) {
		var x Rule
		err := r.Scan(&x.Name, &x.Query, &x.Destination)
		return &x, err
	})
}

// TestRule shows what a rule matches now: for each instance (or the one
// named), the changes of its last loaded run and the graph's state, and
// whether each match already fired or is suppressed by a partial type. A
// rule an integration registered looks at that integration's instances
// only.
func (s *Service) TestRule(ctx context.Context, rule, instance string) ([]Match, error) {
	var out []Match
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var q, integ string
		if err := tx.QueryRow(ctx, `SELECT query, coalesce(integration, '') FROM alert_rule WHERE name = $1`, rule).Scan(&q, &integ); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("rule %s: %w", rule, ErrNotFound)
		} else if err != nil {
			return err
		}
		insts, err := s.Instances(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, inst := range insts {
			if instance != "" && inst.Name != instance {
				continue
			}
			found = true
			if integ != "" && inst.Integration != integ {
				continue // the rule is another integration's
			}
			sinkID, err := sinkInstanceID(ctx, tx, inst)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // never loaded
			}
			if err != nil {
				return err
			}
			var last, prev int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM sync_run WHERE instance_id = $1 AND status IN ('success', 'partial')`, sinkID).Scan(&last); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM sync_run WHERE instance_id = $1 AND id < $2 AND status IN ('success', 'partial')`, sinkID, last).Scan(&prev); err != nil {
				return err
			}
			runs, _, err := loadedRuns(ctx, tx, sinkID, prev)
			if err != nil {
				return err
			}
			ms, err := ruleMatches(ctx, tx, q, sinkID, prev, last)
			if err != nil {
				return fmt.Errorf("rule %s on instance %s: %w", rule, inst.Name, err)
			}
			for _, m := range ms {
				m.Rule, m.Instance = rule, inst.Name
				partial := runs[last]
				if m.RunID != nil && runs[*m.RunID] != nil {
					partial = runs[*m.RunID]
				}
				m.PartialSuppressed = partial[m.Type]
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alert_event WHERE rule = $1 AND instance_id = $2 AND object_key = $3)`,
					rule, inst.ID, m.Key).Scan(&m.AlreadyFired); err != nil {
					return err
				}
				out = append(out, m)
			}
		}
		if instance != "" && !found {
			return fmt.Errorf("instance %s: %w", instance, ErrNotFound)
		}
		return nil
	})
	return out, err
}

// AlertPayload is the JSON body POSTed to a webhook. ID is also sent as
// the Idempotency-Key header: a receiver that sees an ID twice (delivery
// is at least once) drops the second.
type AlertPayload struct {
	ID          string    `json:"id"`
	Rule        string    `json:"rule"`
	Instance    string    `json:"instance"`
	Integration string    `json:"integration"`
	ObjectKey   string    `json:"objectKey"`
	ObjectType  string    `json:"objectType"`
	Summary     string    `json:"summary"`
	SyncRunID   *int64    `json:"syncRunId,omitempty"`
	FiredAt     time.Time `json:"firedAt"`
}

// alertWorker delivers one alert event, retried by River with backoff
// until the destination accepts it.
type alertWorker struct {
	river.WorkerDefaults[AlertArgs]
	w *Worker
}

// NextRetry retries deliveries sooner than River's default: 2s, 4s, 8s,
// ... up to 10 minutes apart.
func (aw *alertWorker) NextRetry(job *river.Job[AlertArgs]) time.Time {
	d := time.Second << min(job.Attempt, 10)
	return time.Now().Add(min(d, 10*time.Minute))
}

// Work implements river.Worker.
func (aw *alertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	s := aw.w.s
	var p AlertPayload
	var dest string
	var delivered *time.Time
	err := s.pool.QueryRow(ctx, `SELECT e.id, e.rule, i.name, i.integration, e.object_key, e.object_type, e.summary, e.sync_run_id, e.fired_at, e.destination, e.delivered_at
		FROM alert_event e JOIN service_instance i ON i.id = e.instance_id WHERE e.id = $1`, job.Args.Event).
		Scan(new(int64), &p.Rule, &p.Instance, &p.Integration, &p.ObjectKey, &p.ObjectType, &p.Summary, &p.SyncRunID, &p.FiredAt, &dest, &delivered)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("alert event %d no longer exists (its instance was removed)", job.Args.Event))
	}
	if err != nil {
		return err
	}
	p.ID = fmt.Sprintf("stepgraph-alert-%d", job.Args.Event)
	if strings.HasPrefix(dest, "env:") || strings.HasPrefix(dest, "file:") {
		u, err := SecretRef(dest).Resolve(aw.w.opts.LookupEnv)
		if err == nil {
			err = checkWebhookURL(u)
		}
		if err != nil {
			aw.w.stats.AlertFailures.Add(1)
			msg := fmt.Sprintf("webhook %s: %v", dest, err)
			_, _ = s.pool.Exec(context.WithoutCancel(ctx), `UPDATE alert_event SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, job.Args.Event, msg)
			return errors.New(msg)
		}
		dest = u
	}
	if dest == "log" {
		aw.w.log.Warn("alert", "rule", p.Rule, "instance", p.Instance, "key", p.ObjectKey, "type", p.ObjectType, "summary", p.Summary, "id", p.ID)
	} else if err := aw.post(ctx, dest, &p); err != nil {
		aw.w.stats.AlertFailures.Add(1)
		_, _ = s.pool.Exec(context.WithoutCancel(ctx), `UPDATE alert_event SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, job.Args.Event, err.Error())
		return err
	}
	aw.w.stats.AlertsDelivered.Add(1)
	_, err = s.pool.Exec(ctx, `UPDATE alert_event SET attempts = attempts + 1, delivered_at = now(), last_error = NULL WHERE id = $1`, job.Args.Event)
	return err
}

func (aw *alertWorker) post(ctx context.Context, dest string, p *AlertPayload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", p.ID)
	u, _ := url.Parse(dest)
	where := u.Scheme + "://" + u.Host + u.Path // never the query (it may hold a token)
	resp, err := aw.w.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook POST %s: %s", where, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook POST %s: status %d", where, resp.StatusCode)
	}
	return nil
}
