// pulumi-tfgen-minio: the bridge's own schema generator run on our provider
// (`pulumi-tfgen-minio schema --out <dir>` writes schema.json and bridge-metadata.json).
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"github.com/netplay/voice-recordings/tools/provider/bridge"
)

func main() {
	tfgen.Main("minio", bridge.Version, bridge.Provider())
}
