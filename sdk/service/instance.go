package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// Instance is one configured account of one integration (an Okta org),
// collected by the workers on its schedule.
type Instance struct {
	// Name is the account name: unique, and the value of tag.AccountName.
	Name string
	// Description helps people tell instances apart.
	Description string
	// Integration is the registered integration's name, e.g. "okta".
	Integration string
	// Interval is the polling interval; 0 means DISABLED (the instance
	// runs only when asked to, with `instances run`).
	Interval time.Duration
	// Config holds the non-secret configuration values by config field
	// name (e.g. "orgUrl"). A secret field is refused here.
	Config map[string]string
	// Secrets maps secret config fields (e.g. "apiKey") to where the
	// workers read them: never the secret itself.
	Secrets map[string]SecretRef
	// TagAccountName, when set, gives every entity of the instance the
	// property tag.AccountName = Name.
	TagAccountName bool

	// ID, CreatedAt and UpdatedAt are set by the database.
	ID                   int64
	CreatedAt, UpdatedAt time.Time
}

// SinkInstance is the instance's name in the graph (postgres.Instance).
func (i *Instance) SinkInstance() postgres.Instance {
	return postgres.Instance{Integration: i.Integration, Name: i.Name}
}

// IntervalString is the interval as shown and parsed ("6h0m0s" or "DISABLED").
func (i *Instance) IntervalString() string {
	if i.Interval == 0 {
		return Disabled
	}
	return i.Interval.String()
}

// Disabled is the polling interval value that turns scheduling off.
const Disabled = "DISABLED"

// ParseInterval parses a polling interval: a Go duration of at least one
// second (e.g. "6h", "30m") or DISABLED (any case), which gives 0.
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, Disabled) {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("interval %q: want a duration of at least 1s (e.g. 6h, 30m) or DISABLED", s)
	}
	return d.Round(time.Second), nil
}

// SecretRef says where a worker reads a secret: "env:NAME" (an
// environment variable of the worker) or "file:PATH" (a file on the
// worker, e.g. a mounted secret; surrounding whitespace is trimmed).
type SecretRef string

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseSecretRef checks a reference. A value that is neither env:NAME nor
// file:PATH is refused without being repeated (it may be the secret).
func ParseSecretRef(s string) (SecretRef, error) {
	kind, val, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "env":
		if !envNameRE.MatchString(val) {
			return "", errors.New("want env:NAME with NAME an environment variable name")
		}
	case "file":
		if val == "" {
			return "", errors.New("want file:PATH")
		}
	default:
		return "", errors.New("want env:NAME or file:PATH (a reference to the secret on the workers, never the secret itself)")
	}
	return SecretRef(kind + ":" + val), nil
}

// Resolve reads the secret on this machine. lookupEnv nil means
// os.LookupEnv. The error names the reference, never a value.
func (r SecretRef) Resolve(lookupEnv func(string) (string, bool)) (string, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	kind, val, _ := strings.Cut(string(r), ":")
	switch kind {
	case "env":
		v, ok := lookupEnv(val)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("secret reference %s: environment variable %s is not set on this worker", r, val)
		}
		return strings.TrimSpace(v), nil
	case "file":
		b, err := os.ReadFile(val)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("secret reference %s: cannot read the file on this worker: %v", r, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret reference %s: the file is empty", r)
		}
		return v, nil
	}
	return "", fmt.Errorf("secret reference %q: want env:NAME or file:PATH", string(r))
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ErrNotFound is returned for an instance (or rule) that does not exist.
var ErrNotFound = errors.New("not found")

func (s *Service) validate(inst *Instance) error { return s.reg.Validate(inst) }

// Validate checks an instance against the registry, without a database:
// name, integration, known config fields, no secret in Config, and
// references (not values) for secret fields.
func (r *Registry) Validate(inst *Instance) error {
	if !nameRE.MatchString(inst.Name) {
		return fmt.Errorf("name %q: want 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit", inst.Name)
	}
	fields, err := r.Fields(inst.Integration)
	if err != nil {
		return err
	}
	if inst.Interval != 0 && inst.Interval < time.Second {
		return fmt.Errorf("interval %s: want at least 1s, or DISABLED", inst.Interval)
	}
	byName := map[string]integration.Field{}
	var names []string
	for _, f := range fields {
		byName[f.Name] = f
		names = append(names, f.Name)
	}
	for k := range inst.Config {
		f, ok := byName[k]
		if !ok {
			return fmt.Errorf("config %s: %s has no such field (fields: %s)", k, inst.Integration, strings.Join(names, ", "))
		}
		if f.Secret {
			return fmt.Errorf("config %s: is a secret: give a reference the workers resolve (--secret %s=env:VAR or --secret %s=file:PATH), never the value", k, k, k)
		}
	}
	for k, ref := range inst.Secrets {
		f, ok := byName[k]
		if !ok {
			return fmt.Errorf("secret %s: %s has no such field (fields: %s)", k, inst.Integration, strings.Join(names, ", "))
		}
		if !f.Secret {
			return fmt.Errorf("secret %s: is not a secret field: set it with --set %s=VALUE", k, k)
		}
		if _, err := ParseSecretRef(string(ref)); err != nil {
			return fmt.Errorf("secret %s: %v", k, err)
		}
	}
	return nil
}

// AddInstance registers a new instance. Its schedule starts with the
// workers' next scheduling pass.
func (s *Service) AddInstance(ctx context.Context, inst Instance) error {
	if err := s.validate(&inst); err != nil {
		return err
	}
	cfg, secrets, err := encodeMaps(&inst)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO service_instance (name, description, integration, interval_seconds, config, secrets, tag_account_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		inst.Name, inst.Description, inst.Integration, intervalSeconds(inst.Interval), cfg, secrets, inst.TagAccountName)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("instance %s already exists (use update)", inst.Name)
	}
	if err != nil {
		return fmt.Errorf("add instance %s: %w", inst.Name, err)
	}
	return nil
}

func encodeMaps(inst *Instance) (cfg, secrets []byte, err error) {
	if inst.Config == nil {
		inst.Config = map[string]string{}
	}
	if inst.Secrets == nil {
		inst.Secrets = map[string]SecretRef{}
	}
	if cfg, err = json.Marshal(inst.Config); err != nil {
		return nil, nil, err
	}
	secrets, err = json.Marshal(inst.Secrets)
	return cfg, secrets, err
}

func intervalSeconds(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	n := int64(d / time.Second)
	return &n
}

const instanceColumns = `id, name, description, integration, interval_seconds, config, secrets, tag_account_name, created_at, updated_at`

func scanInstance(row pgx.Row) (*Instance, error) {
	var inst Instance
	var secs *int64
	var cfg, secrets []byte
	if err := row.Scan(&inst.ID, &inst.Name, &inst.Description, &inst.Integration, &secs, &cfg, &secrets,
		&inst.TagAccountName, &inst.CreatedAt, &inst.UpdatedAt); err != nil {
		return nil, err
	}
	if secs != nil {
		inst.Interval = time.Duration(*secs) * time.Second
	}
	if err := json.Unmarshal(cfg, &inst.Config); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(secrets, &inst.Secrets); err != nil {
		return nil, err
	}
	return &inst, nil
}

// Instance returns the named instance, or an error wrapping ErrNotFound.
func (s *Service) Instance(ctx context.Context, name string) (*Instance, error) {
	inst, err := scanInstance(s.pool.QueryRow(ctx, `SELECT `+instanceColumns+` FROM service_instance WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("instance %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", name, err)
	}
	return inst, nil
}

// UpdateInstance changes an instance: fn edits a copy, which is validated
// and stored. The name cannot change (it is the graph's instance name).
func (s *Service) UpdateInstance(ctx context.Context, name string, fn func(*Instance) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		inst, err := scanInstance(tx.QueryRow(ctx, `SELECT `+instanceColumns+` FROM service_instance WHERE name = $1 FOR UPDATE`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("instance %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := fn(inst); err != nil {
			return err
		}
		if inst.Name != name {
			return fmt.Errorf("instance %s: the name cannot change (it names the instance's graph): add a new instance and remove this one", name)
		}
		if err := s.validate(inst); err != nil {
			return err
		}
		cfg, secrets, err := encodeMaps(inst)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE service_instance SET description = $2, interval_seconds = $3, config = $4, secrets = $5,
			tag_account_name = $6, updated_at = now() WHERE name = $1`,
			name, inst.Description, intervalSeconds(inst.Interval), cfg, secrets, inst.TagAccountName)
		if err != nil {
			return err
		}
		if inst.Interval == 0 {
			// DISABLED: drop the scheduled run (a running one finishes).
			_, err = s.cancelWaiting(ctx, tx, name)
		}
		return err
	})
}

// Instances lists the instances, by name.
func (s *Service) Instances(ctx context.Context) ([]*Instance, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+instanceColumns+` FROM service_instance ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	var out []*Instance
	for rows.Next() {
		inst, err := scanInstance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, rows.Err()
}

// RemoveInstance stops an instance's schedule, cancels its jobs (a running
// collection is told to stop and loads nothing), forgets its graph
// (entities, relationships, runs, change log) and unregisters it. It waits
// up to wait for a running collection to let go of the instance; when that
// fails the instance stays registered with polling DISABLED, and removing
// it again finishes the job.
func (s *Service) RemoveInstance(ctx context.Context, name string, wait time.Duration) error {
	inst, err := s.Instance(ctx, name)
	if err != nil {
		return err
	}
	var running []int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE service_instance SET interval_seconds = NULL, updated_at = now() WHERE id = $1`, inst.ID); err != nil {
			return err
		}
		if _, err := s.cancelWaiting(ctx, tx, name); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM river_job WHERE kind = $1 AND args->>'instance' = $2 AND state = 'running'`, kindCollect, name)
		if err != nil {
			return err
		}
		running, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return fmt.Errorf("remove instance %s: %w", name, err)
	}
	for _, id := range running {
		if _, err := s.queue.JobCancel(ctx, id); err != nil {
			s.log.Warn("could not cancel the running collection", "instance", name, "job", id, "err", err)
		}
	}
	deadline := time.Now().Add(wait)
	for {
		_, err := s.sink.ForgetInstance(ctx, inst.SinkInstance())
		if err == nil {
			break
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55P03" || time.Now().After(deadline) {
			return fmt.Errorf("remove instance %s: its polling is now DISABLED, but its graph could not be forgotten yet (run remove again): %w", name, err)
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM service_instance WHERE id = $1`, inst.ID); err != nil {
		return fmt.Errorf("remove instance %s: graph forgotten, but unregistering failed (run remove again): %w", name, err)
	}
	return nil
}

// cancelWaiting cancels the instance's collection jobs that wait to run
// (through River, in tx); a running one is left alone.
func (s *Service) cancelWaiting(ctx context.Context, tx pgx.Tx, name string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM river_job WHERE kind = $1 AND args->>'instance' = $2
		AND state IN ('scheduled', 'available', 'retryable', 'pending')`, kindCollect, name)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.queue.JobCancelTx(ctx, tx, id); err != nil {
			return 0, fmt.Errorf("cancel job %d: %w", id, err)
		}
	}
	return len(ids), nil
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
