package graph_test

import (
	"encoding/json"
	"fmt"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// apiDevice is a provider's device as its API sends it. The prop tags are the
// data-model table: which property each field becomes, and how.
type apiDevice struct {
	ID       string  `json:"id" prop:"id deviceId"`
	Status   string  `json:"status" prop:"status,lower,active=ACTIVE"`
	Created  string  `json:"created" prop:"createdOn,time"`
	Serial   *string `json:"serial" prop:"serial,null"`
	Platform string  `json:"platform" prop:"osPlatform,omitempty"`
	Profile  struct {
		Name  string `json:"name"` // no tag: used for the display name below
		Model string `json:"model" prop:"model"`
	} `json:"profile"`
}

// deviceProps is apiDevice's plan, computed once.
var deviceProps = graph.MustPropertyMap[apiDevice]()

func ExamplePropertyMap() {
	raw := json.RawMessage(`{"id":"dev-0001","status":"ACTIVE","created":"2024-05-01T10:00:00Z",
		"serial":null,"platform":"","profile":{"name":"Ann's laptop","model":"X1"}}`)
	var d apiDevice
	if err := json.Unmarshal(raw, &d); err != nil {
		panic(err)
	}
	e := &graph.Entity{Key: "acme_device:" + d.ID, Type: "acme_device", Class: []string{"Device"},
		DisplayName: d.Profile.Name, RawData: graph.DefaultRawData(raw)}
	deviceProps.Set(e, &d).Set("name", d.Profile.Name) // what tags cannot say stays code
	for _, k := range []string{"id", "deviceId", "status", "active", "createdOn", "serial", "model", "name"} {
		fmt.Printf("%s: %#v\n", k, e.Properties[k])
	}
	_, set := e.Properties["osPlatform"]
	fmt.Println("osPlatform set:", set)
	// Output:
	// id: "dev-0001"
	// deviceId: "dev-0001"
	// status: "active"
	// active: true
	// createdOn: 1714557600000
	// serial: <nil>
	// model: "X1"
	// name: "Ann's laptop"
	// osPlatform set: false
}

func ExampleMatchTable() {
	vendors := graph.MustMatchTable([][2]string{
		{"jira|bitbucket", "Atlassian"},
		{"google|^gcp$", "Google"},
	})
	for _, app := range []string{"jira_cloud", "gcp", "slack"} {
		v, ok := vendors.Lookup(app)
		fmt.Printf("%s: %q %v\n", app, v, ok)
	}
	// Output:
	// jira_cloud: "Atlassian" true
	// gcp: "Google" true
	// slack: "" false
}
