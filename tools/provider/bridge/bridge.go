// Package bridge maps our Terraform provider `minio` to Pulumi's `minio` package the way
// pulumi-minio 0.17.1's provider/resources.go does (tokens in one `index` module, auto-aliases,
// autonaming of `name` with 255 characters and "-", `quota` as a number), so that the schema
// tfgen makes of it is pulumi_minio 0.17.1's and the engine sees what it sees in production.
package bridge

import (
	_ "embed" // bridge-metadata.json, as pulumi-minio embeds it

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	"github.com/netplay/voice-recordings/tools/provider/minio"
)

// Version is the plugin version pulumi_minio 0.17.1 asks the engine for.
const Version = "0.17.1"

//go:embed bridge-metadata.json
var metadata []byte

// Provider is the ProviderInfo of resources.go, over our Terraform provider.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(minio.Provider()),
		Name:         "minio",
		Description:  "A Pulumi package for creating and managing minio cloud resources.",
		Keywords:     []string{"pulumi", "minio"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-minio",
		GitHubOrg:    "aminueza",
		Config:       map[string]*tfbridge.SchemaInfo{},
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// resources.go: "quota should be a u64 ... converting to a float64".
			"minio_s3_bucket": {Fields: map[string]*tfbridge.SchemaInfo{"quota": {Type: "number"}}},
		},
		Python: &tfbridge.PythonInfo{
			RespectSchemaVersion: true,
			PyProject:            struct{ Enabled bool }{true},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("minio_", "index", tokens.MakeStandard("minio")))
	info.MustApplyAutoAliases()
	info.SetAutonaming(255, "-")
	return info
}
