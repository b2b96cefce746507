// Package codegen holds what pulumi-terraform-bridge's tfgen takes from pulumi-yaml: a program
// generator, which declines here (docs examples are not translated).
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
)

// ErrNoProgramGenerator says that YAML examples are not generated here.
var ErrNoProgramGenerator = errors.New("YAML program generation is not built into this tfgen")

// GenerateProgram declines: tfgen then leaves the example out of the docs it generates.
func GenerateProgram(program any) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, ErrNoProgramGenerator
}
