// Package codegen holds what pulumi-terraform-bridge's tfgen takes from pulumi-dotnet's C#
// code generator: the C# language sections of a Pulumi schema, with the same JSON names, and a
// program generator that declines (docs examples are not translated here).
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
)

// CSharpPackageInfo is a package's "csharp" language section.
type CSharpPackageInfo struct {
	PackageReferences            map[string]string `json:"packageReferences,omitempty"`
	Namespaces                   map[string]string `json:"namespaces,omitempty"`
	Compatibility                string            `json:"compatibility,omitempty"`
	DictionaryConstructors       bool              `json:"dictionaryConstructors,omitempty"`
	ProjectReferences            []string          `json:"projectReferences,omitempty"`
	RootNamespace                string            `json:"rootNamespace,omitempty"`
	LiftSingleValueMethodReturns bool              `json:"liftSingleValueMethodReturns,omitempty"`
	RespectSchemaVersion         bool              `json:"respectSchemaVersion,omitempty"`
}

// CSharpPropertyInfo is a property's "csharp" language section.
type CSharpPropertyInfo struct {
	Name string `json:"name,omitempty"`
}

// CSharpResourceInfo is a resource's "csharp" language section.
type CSharpResourceInfo struct {
	Name string `json:"name,omitempty"`
}

// ErrNoProgramGenerator says that C# examples are not generated here.
var ErrNoProgramGenerator = errors.New("C# program generation is not built into this tfgen")

// GenerateProgram declines: tfgen then leaves the example out of the docs it generates.
func GenerateProgram(program any) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, ErrNoProgramGenerator
}
