// Package teamdir is a small but complete stepgraph integration, written as
// an example: it collects a team directory (an account, its users, its teams
// and team memberships) from a JSON API with Link-header pagination. The
// fake API it is recorded against lives in package fakeapi; the walkthrough
// is examples/README.md.
package teamdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Config is the integration's configuration, loaded by
// integration.LoadConfig from flags, the environment and a .env file.
type Config struct {
	BaseURL   string `config:"baseUrl" env:"TEAMDIR_BASE_URL" help:"Team directory API base URL, e.g. https://api.teamdir.example"`
	APIToken  string `config:"apiToken" env:"TEAMDIR_API_TOKEN" secret:"true" help:"API token (sent as a Bearer token)"`
	PageSize  int    `config:"pageSize" env:"TEAMDIR_PAGE_SIZE" default:"50" optional:"true" help:"Objects per page (1-100)"`
	SkipTeams bool   `config:"skipTeams" env:"TEAMDIR_SKIP_TEAMS" optional:"true" help:"Do not collect teams and memberships"`
}

// Step IDs.
const (
	StepAccount     = "fetch-account"
	StepUsers       = "fetch-users"
	StepTeams       = "fetch-teams"
	StepMemberships = "build-team-memberships"
)

// Entity and relationship types.
const (
	AccountType     = "teamdir_account"
	UserType        = "teamdir_user"
	TeamType        = "teamdir_team"
	AccountUserType = "teamdir_account_has_user"
	AccountTeamType = "teamdir_account_has_team"
	TeamUserType    = "teamdir_team_has_user"
)

// Options are code-level settings of the integration, as opposed to user
// configuration.
type Options struct {
	// Transport carries the HTTP requests; tests pass an sdktest.Recorder.
	// Nil means the httpclient's default transport.
	Transport http.RoundTripper
}

// SourceTeams is the ingestion source of teams and memberships; users can
// switch it off (--disable-source teams, or skipTeams).
const SourceTeams = "teams"

// Run state shared by the steps (integration.Key): the client is built
// once per run by Setup and never outlives it; the account's _key is
// handed from fetch-account to the steps that link to it.
var (
	clientKey  = integration.NewLocalKey[*httpclient.Client]("teamdir.client")
	accountKey = integration.NewKey[string]("teamdir.account")
)

// New returns the integration.
func New(opts Options) *integration.Integration[Config] {
	c := &collector{opts: opts}
	return &integration.Integration[Config]{
		Name:     "teamdir",
		Validate: validate,
		Setup:    c.setup,
		Sources: []integration.Source[Config]{{
			Name: SourceTeams, Description: "teams and their members",
			ProbeEndpoint: "GET /api/v1/teams",
			Probe: integration.Using[Config](clientKey, func(ctx context.Context, cl *httpclient.Client) error {
				_, err := cl.Do(ctx, http.MethodGet, "/api/v1/teams?limit=1", nil)
				return err
			}),
		}},
		DisabledSources: func(cfg *Config) map[string]string {
			if cfg.SkipTeams {
				return map[string]string{SourceTeams: "skipTeams is set"}
			}
			return nil
		},
		Classify: classify,
		Steps: []integration.Step[Config]{
			{
				ID: StepAccount, Name: "Fetch Account",
				Entities: []integration.EntityType{{Resource: "Account", Type: AccountType, Class: []string{"Account"}}},
				Data:     []integration.DataKey{accountKey.Data()},
				Run:      c.fetchAccount,
			},
			{
				ID: StepUsers, Name: "Fetch Users", DependsOn: []string{StepAccount},
				Entities: []integration.EntityType{{Resource: "User", Type: UserType, Class: []string{"User"}}},
				Relationships: []integration.RelationshipType{
					{Type: AccountUserType, Class: graph.HAS, Source: AccountType, Target: UserType},
				},
				NeedsData: []string{accountKey.Name()},
				Run:       c.fetchUsers,
			},
			{
				ID: StepTeams, Name: "Fetch Teams", DependsOn: []string{StepAccount}, Source: SourceTeams,
				Entities: []integration.EntityType{{Resource: "Team", Type: TeamType, Class: []string{"UserGroup"}}},
				Relationships: []integration.RelationshipType{
					{Type: AccountTeamType, Class: graph.HAS, Source: AccountType, Target: TeamType},
				},
				NeedsData: []string{accountKey.Name()},
				Run:       c.fetchTeams,
			},
			{
				ID: StepMemberships, Name: "Build Team Memberships", DependsOn: []string{StepTeams, StepUsers},
				Relationships: []integration.RelationshipType{
					{Type: TeamUserType, Class: graph.HAS, Source: TeamType, Target: UserType},
				},
				Run: c.buildMemberships,
			},
		},
	}
}

// classify is the error policy, declared once: a team deleted between its
// listing and the read of its members is skipped (counted in a warning);
// anything else fails the step.
func classify(err error) (integration.Action, string) {
	var api *integration.APIError
	if errors.As(err, &api) && api.Status == http.StatusNotFound {
		return integration.Skip, "deleted since it was listed"
	}
	return integration.Fail, ""
}

func validate(_ context.Context, cfg *Config) error {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &integration.ConfigError{Field: "baseUrl", Message: "must be an absolute http(s) URL"}
	}
	if cfg.PageSize < 1 || cfg.PageSize > 100 {
		return &integration.ConfigError{Field: "pageSize", Message: "must be between 1 and 100"}
	}
	return nil
}

// collector holds the integration's code-level options.
type collector struct {
	opts Options
}

// setup builds the run's HTTP client once, before any step: every step
// shares its rate-limit pacer, and it is gone when the run ends.
func (c *collector) setup(_ context.Context, rc *integration.RunContext[Config]) error {
	cl, err := httpclient.New(httpclient.Config{
		BaseURL:   rc.Config.BaseURL,
		AuthValue: "Bearer " + rc.Config.APIToken,
		Transport: c.opts.Transport,
		Logger:    rc.Logger,
	})
	if err != nil {
		return err
	}
	integration.Put(rc, clientKey, cl)
	return nil
}

// each pages through a listing and calls fn with every raw item.
func (c *collector) each(ctx context.Context, sc *integration.StepContext[Config], path string, fn func(raw json.RawMessage) error) error {
	cl := integration.MustGet(sc, clientKey)
	for page, err := range cl.Pages(ctx, fmt.Sprintf("%s?limit=%d", path, sc.Config.PageSize)) {
		if err != nil {
			return err
		}
		var items []json.RawMessage
		if err := json.Unmarshal(page.Body, &items); err != nil {
			return fmt.Errorf("decode %s: %w", path, err)
		}
		for _, raw := range items {
			if err := fn(raw); err != nil {
				return err
			}
		}
		sc.Progress(path, int64(len(items)))
	}
	return nil
}

func (c *collector) fetchAccount(ctx context.Context, sc *integration.StepContext[Config]) error {
	cl := integration.MustGet(sc, clientKey)
	var raw json.RawMessage
	if _, err := cl.GetJSON(ctx, "/api/v1/account", &raw); err != nil {
		return err
	}
	var a struct{ ID, Name, Domain, Plan, CreatedAt string }
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("decode account: %w", err)
	}
	e := &graph.Entity{
		Key: "teamdir_account:" + a.ID, Type: AccountType, Class: []string{"Account"},
		DisplayName: a.Name, RawData: []graph.RawData{{Name: "default", Data: raw}},
	}
	e.Set("id", a.ID).Set("name", a.Name).SetIfPresent("domain", a.Domain).SetIfPresent("plan", a.Plan)
	if err := e.SetTime("createdOn", a.CreatedAt); err != nil {
		return err
	}
	integration.Put(sc, accountKey, e.Key)
	return sc.AddEntities(ctx, e)
}

func (c *collector) fetchUsers(ctx context.Context, sc *integration.StepContext[Config]) error {
	account := integration.MustGet(sc, accountKey)
	return c.each(ctx, sc, "/api/v1/users", func(raw json.RawMessage) error {
		var u struct {
			ID, Username, Email, Name, CreatedAt string
			Active, Admin                        bool
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return fmt.Errorf("decode user: %w", err)
		}
		e := &graph.Entity{
			Key: userKey(u.ID), Type: UserType, Class: []string{"User"},
			DisplayName: u.Name, RawData: []graph.RawData{{Name: "default", Data: raw}},
		}
		e.Set("id", u.ID).Set("username", u.Username).Set("email", u.Email).Set("active", u.Active).
			Set("admin", u.Admin).SetIfPresent("name", u.Name)
		if err := e.SetTime("createdOn", u.CreatedAt); err != nil {
			return err
		}
		if err := sc.AddEntities(ctx, e); err != nil {
			return err
		}
		return sc.AddRelationships(ctx, graph.DirectByKey(account, AccountType, graph.HAS, e.Key, UserType))
	})
}

func userKey(id string) string { return "teamdir_user:" + id }

func (c *collector) fetchTeams(ctx context.Context, sc *integration.StepContext[Config]) error {
	account := integration.MustGet(sc, accountKey)
	return c.each(ctx, sc, "/api/v1/teams", func(raw json.RawMessage) error {
		var t struct{ ID, Name, Description string }
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("decode team: %w", err)
		}
		e := &graph.Entity{
			Key: "teamdir_team:" + t.ID, Type: TeamType, Class: []string{"UserGroup"},
			DisplayName: t.Name, RawData: []graph.RawData{{Name: "default", Data: raw}},
		}
		e.Set("id", t.ID).Set("name", t.Name).SetIfPresent("description", t.Description)
		if err := sc.AddEntities(ctx, e); err != nil {
			return err
		}
		return sc.AddRelationships(ctx, graph.DirectByKey(account, AccountType, graph.HAS, e.Key, TeamType))
	})
}

// buildMemberships reads every team's members on the run's fan-out
// (integration.ForEach): one request stream per team, under the run-wide
// worker budget.
func (c *collector) buildMemberships(ctx context.Context, sc *integration.StepContext[Config]) error {
	var teams []*graph.Entity
	if err := sc.IterateEntities(ctx, TeamType, func(team *graph.Entity) error {
		teams = append(teams, team)
		return nil
	}); err != nil {
		return err
	}
	return integration.ForEach(ctx, sc, slices.Values(teams), func(ctx context.Context, team *graph.Entity) error {
		id, _ := team.Prop("id").(string)
		return c.each(ctx, sc, "/api/v1/teams/"+url.PathEscape(id)+"/members", func(raw json.RawMessage) error {
			var m struct{ UserID, Role string }
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("decode member: %w", err)
			}
			if !sc.HasKey(userKey(m.UserID)) {
				sc.Warn(ctx, "team member is not a known user; skipped", "team", id, "user", m.UserID)
				return nil
			}
			rel := graph.Direct(team, graph.HAS, &graph.Entity{Key: userKey(m.UserID), Type: UserType},
				graph.WithProperties(map[string]any{"role": m.Role}))
			return sc.AddRelationships(ctx, rel)
		})
	})
}
