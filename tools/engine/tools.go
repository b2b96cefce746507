//go:build tools

// Package engine pins the Pulumi CLI and engine this repository runs (see Makefile: make engine).
package engine

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
