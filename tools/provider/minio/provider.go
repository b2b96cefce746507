// Package minio is our Terraform provider `minio`: the schema of terraform-provider-minio v1.20.1
// (what pulumi-minio 0.17.1 bridges) for the resources this repository uses or could use, with
// resource functions that do on the embedded S3+IAM endpoint (devtools/endpoint/embedded_s3.py)
// what v1.20.1's do on MinIO. v1.20.1 is AGPL: it was read to learn what it does, and nothing of
// it is built, imported or copied. Each function names the upstream file and function it follows.
package minio

import (
	"context"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// Provider is the provider's schema and its table of resources (minio/provider.go).
func Provider() *schema.Provider {
	return &schema.Provider{
		Schema: map[string]*schema.Schema{
			"minio_server": {
				Type:        schema.TypeString,
				Required:    true,
				Description: "Minio Host and Port",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_ENDPOINT"}, nil),
			},
			"minio_region": {
				Type:        schema.TypeString,
				Optional:    true,
				Default:     "us-east-1",
				Description: "Minio Region (default: us-east-1)",
			},
			"minio_access_key": {
				Type:        schema.TypeString,
				Optional:    true,
				Description: "Minio Access Key",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_ACCESS_KEY"}, nil),
				Deprecated:  "use minio_user instead",
			},
			"minio_secret_key": {
				Type:        schema.TypeString,
				Optional:    true,
				Description: "Minio Secret Key",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_SECRET_KEY"}, nil),
				Deprecated:  "use minio_password instead",
			},
			"minio_user": {
				Type:          schema.TypeString,
				Optional:      true,
				Description:   "Minio User",
				DefaultFunc:   schema.MultiEnvDefaultFunc([]string{"MINIO_USER"}, nil),
				ConflictsWith: []string{"minio_access_key"},
			},
			"minio_password": {
				Type:          schema.TypeString,
				Optional:      true,
				Description:   "Minio Password",
				DefaultFunc:   schema.MultiEnvDefaultFunc([]string{"MINIO_PASSWORD"}, nil),
				ConflictsWith: []string{"minio_secret_key"},
			},
			"minio_session_token": {
				Type:        schema.TypeString,
				Optional:    true,
				Description: "Minio Session Token",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_SESSION_TOKEN"}, ""),
			},
			"minio_api_version": {
				Type:        schema.TypeString,
				Optional:    true,
				Default:     "v4",
				Description: "Minio API Version (type: string, options: v2 or v4, default: v4)",
			},
			"minio_ssl": {
				Type:        schema.TypeBool,
				Optional:    true,
				Description: "Minio SSL enabled (default: false)",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_ENABLE_HTTPS"}, nil),
			},
			"minio_insecure": {
				Type:        schema.TypeBool,
				Optional:    true,
				Description: "Disable SSL certificate verification (default: false)",
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_INSECURE"}, nil),
			},
			"minio_cacert_file": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_CACERT_FILE"}, nil),
			},
			"minio_cert_file": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_CERT_FILE"}, nil),
			},
			"minio_key_file": {
				Type:        schema.TypeString,
				Optional:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"MINIO_KEY_FILE"}, nil),
			},
		},
		ResourcesMap: map[string]*schema.Resource{
			"minio_s3_bucket":                        resourceBucket(),
			"minio_s3_bucket_policy":                 resourceBucketPolicy(),
			"minio_s3_bucket_versioning":             resourceBucketVersioning(),
			"minio_s3_bucket_server_side_encryption": resourceBucketEncryption(),
			"minio_iam_user":                         resourceUser(),
			"minio_iam_service_account":              resourceServiceAccount(),
			"minio_iam_policy":                       resourcePolicy(),
			"minio_iam_user_policy_attachment":       resourceUserPolicyAttachment(),
			"minio_ilm_policy":                       resourceLifecycle(),
		},
		ConfigureContextFunc: configure,
	}
}

// configure builds the clients from the provider's config (check_config.go NewConfig,
// new_client.go NewClient).
func configure(_ context.Context, d *schema.ResourceData) (any, diag.Diagnostics) {
	user := d.Get("minio_user").(string)
	if user == "" {
		user = d.Get("minio_access_key").(string)
	}
	password := d.Get("minio_password").(string)
	if password == "" {
		password = d.Get("minio_secret_key").(string)
	}
	client, err := newClient(clientConfig{
		server:       d.Get("minio_server").(string),
		region:       d.Get("minio_region").(string),
		user:         user,
		password:     password,
		sessionToken: d.Get("minio_session_token").(string),
		apiSignature: d.Get("minio_api_version").(string),
		ssl:          d.Get("minio_ssl").(bool),
		caCertFile:   d.Get("minio_cacert_file").(string),
		certFile:     d.Get("minio_cert_file").(string),
		keyFile:      d.Get("minio_key_file").(string),
		insecure:     d.Get("minio_insecure").(bool),
	})
	if err != nil {
		return nil, resourceError("client creation failed", "client", err)
	}
	return client, nil
}
