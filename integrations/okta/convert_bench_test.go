package okta

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// BenchmarkUserToStore is the per-user CPU and allocation cost of what
// fetch-users does with a listed user, measured without the network: decode
// the user from a users page as the fake Okta sends it (pages of 200),
// convert it to its entity (profile attributes, timestamps), check it
// against the data model (Attributes.DropInvalid), and encode and
// write it to a filesystem store. One op is one user, so B/op and
// allocs/op are per user:
//
//	go test ./integrations/okta -run '^$' -bench UserToStore -benchmem
func BenchmarkUserToStore(b *testing.B) {
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: 2000, Seed: 1})
	srv, err := oktafake.Start(org, oktafake.ServerOptions{DisableRateLimits: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	var pages [][]byte
	for next := srv.URL + pathUsers + "?limit=200"; next != ""; {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "SSWS "+oktafake.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("users page: %d %v", resp.StatusCode, err)
		}
		pages = append(pages, body)
		next = ""
		for _, l := range httpclient.ParseLinkHeader(resp.Header.Values("Link")) {
			if l.HasRel("next") {
				next = l.URL
			}
		}
	}
	fs, err := store.NewFilesystem(filepath.Join(b.TempDir(), "out"), store.FilesystemOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Abort()
	ctx := context.Background()
	org0 := orgInfo{AdminURL: "https://bench-admin.okta.com"}
	schemas := graph.DefaultSchemas()
	mfa := true
	var users []oktaUser
	es := make([]*graph.Entity, 0, 200)
	page, seq := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		if len(users) == 0 {
			users = nil
			if err := fastjson.Unmarshal(pages[page%len(pages)], &users); err != nil {
				b.Fatal(err)
			}
			page++
			seq++
		}
		u := &users[0]
		users = users[1:]
		e := userEntity(org0, u, &mfa)
		e.Key = u.ID + "-" + strconv.Itoa(seq) // unique across passes over the pages
		u.Profile.DropInvalid(schemas, e)
		es = append(es, e)
		if len(es) == cap(es) || len(users) == 0 {
			if err := fs.AddEntities(ctx, "fetch-users", es); err != nil {
				b.Fatal(err)
			}
			es = es[:0]
		}
	}
}

// BenchmarkFactorEntity is the per-factor cost of converting a spilled
// factor (decode and entity), as fetch-mfa-devices does:
//
//	go test ./integrations/okta -run '^$' -bench FactorEntity -benchmem
func BenchmarkFactorEntity(b *testing.B) {
	raw := []byte(`{"id":"mfa1abcdefghij","factorType":"push","provider":"OKTA","vendorName":"OKTA","status":"ACTIVE",` +
		`"created":"2020-01-02T03:04:05.000Z","lastUpdated":"2021-01-02T03:04:05.000Z","lastVerified":"2022-01-02T03:04:05.000Z",` +
		`"profile":{"credentialId":"ann@example.com","deviceType":"SmartPhone_IPhone","name":"Ann's iPhone","platform":"IOS"}}`)
	b.ReportAllocs()
	for b.Loop() {
		var f oktaFactor
		if err := fastjson.Unmarshal(raw, &f); err != nil {
			b.Fatal(err)
		}
		factorEntity(&f, raw)
	}
}
