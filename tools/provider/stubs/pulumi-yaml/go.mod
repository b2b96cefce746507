// Stands in for github.com/pulumi/pulumi-yaml, which the bridge's tfgen imports at a
// pseudo-version the Go module proxy refuses (403); tfgen uses only GenerateProgram, to
// translate docs examples into YAML, which our schema does not need.
module github.com/pulumi/pulumi-yaml

go 1.26.6

require github.com/hashicorp/hcl/v2 v2.24.0
