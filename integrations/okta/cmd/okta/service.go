package main

import (
	"io"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/alertrules"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/service"
	"github.com/stepgraph/stepgraph/sdk/service/servicecli"
)

// serviceRegistry declares the integrations the service commands manage
// and the workers run: Okta, with its alert rules (package alertrules).
// optsFor, when set, gives the collector options of one instance (the
// tests send each instance to its own fake org); nil runs every instance
// on col.
func serviceRegistry(col *okta.Collector, optsFor func(inst *service.Instance) okta.Options) *service.Registry {
	reg := service.NewRegistry()
	def := service.Definition[okta.Config]{Integration: col.Integration(), Rules: alertrules.FS}
	if optsFor != nil {
		def.ForInstance = func(inst *service.Instance) (*integration.Integration[okta.Config], error) {
			return okta.NewCollector(optsFor(inst)).Integration(), nil
		}
	}
	service.Register(reg, def)
	return reg
}

// serviceCommands are the service's commands (instances, worker, alerts,
// status) mounted on the okta binary.
func serviceCommands(reg *service.Registry, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) []cli.Command {
	return servicecli.Commands(servicecli.Options{Registry: reg, Program: "okta", Stdout: stdout, Stderr: stderr, LookupEnv: lookupEnv})
}
