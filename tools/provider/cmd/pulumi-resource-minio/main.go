// pulumi-resource-minio: the `minio` resource plugin, pulumi-terraform-bridge over our
// Terraform provider, serving the schema tfgen generated (schema.json beside this file).
package main

import (
	_ "embed" // schema.json

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"github.com/netplay/voice-recordings/tools/provider/bridge"
)

//go:embed schema.json
var pulumiSchema []byte

func main() {
	tfbridge.Main("minio", bridge.Version, bridge.Provider(), pulumiSchema)
}
