package oktafake

import "github.com/stepgraph/stepgraph/sdk/fakeprovider"

// rendered is the JSON of the org's users, of each user's factor list
// (the whole /factors answer) and of each app's user assignments, with
// links on one object base URL, each rendered once: the org does not
// change while it is served.
type rendered struct {
	users    *fakeprovider.Rendered
	factors  *fakeprovider.Rendered
	appUsers []*fakeprovider.Rendered // per app, per o.apps[ai].users
}

// rendered returns the JSON cache for links on base, creating it on first
// use.
func (s *Server) rendered(base string) *rendered {
	if r, ok := s.renders.Load(base); ok {
		return r.(*rendered)
	}
	o := s.org
	r := &rendered{
		users: fakeprovider.NewRendered(len(o.users), func(i int) any { return o.renderUser(base, i) }),
		factors: fakeprovider.NewRendered(len(o.users), func(i int) any {
			fs := o.userFactors(i)
			out := make([]jFactor, len(fs))
			for k := range fs {
				out[k] = o.renderFactor(base, i, &fs[k])
			}
			return out
		}),
	}
	r.appUsers = make([]*fakeprovider.Rendered, len(o.apps))
	for ai := range o.apps {
		us := o.apps[ai].users
		r.appUsers[ai] = fakeprovider.NewRendered(len(us), func(k int) any { return o.renderAppUser(base, ai, &us[k]) })
	}
	got, _ := s.renders.LoadOrStore(base, r)
	return got.(*rendered)
}

// Prerender renders the JSON of every user, every user's factor list and
// every app's user assignments for a server reached at baseURL
// (ServerOptions.ObjectBaseURL, else ServerOptions.BaseURL, wins if set),
// so that answering them later costs no encoding. It is optional: answers
// are the same bytes either way, rendered on first use otherwise. The
// benchmark calls it before it starts the clock, as it builds the org.
func (s *Server) Prerender(baseURL string) {
	base := s.opts.ObjectBaseURL
	if base == "" {
		base = s.opts.BaseURL
	}
	if base == "" {
		base = baseURL
	}
	r := s.rendered(base)
	r.users.RenderAll()
	r.factors.RenderAll()
	for _, au := range r.appUsers {
		au.RenderAll()
	}
}
