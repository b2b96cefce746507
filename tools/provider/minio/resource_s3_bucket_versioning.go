package minio

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	miniogo "github.com/minio/minio-go/v7"
)

// resourceBucketVersioning is minio_s3_bucket_versioning (resource_minio_s3_bucket_versioning.go).
func resourceBucketVersioning() *schema.Resource {
	return &schema.Resource{
		CreateContext: putBucketVersioning,
		ReadContext:   readBucketVersioning,
		UpdateContext: putBucketVersioning,
		DeleteContext: deleteBucketVersioning,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"bucket": {Type: schema.TypeString, Required: true, ForceNew: true},
			"versioning_configuration": {
				Type:     schema.TypeList,
				Required: true,
				MaxItems: 1,
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"status": {
						Type:         schema.TypeString,
						Required:     true,
						ValidateFunc: validation.StringInSlice([]string{miniogo.Enabled, miniogo.Suspended}, false),
					},
					"excluded_prefixes": {
						Type: schema.TypeList, Optional: true, Elem: &schema.Schema{Type: schema.TypeString},
					},
					"exclude_folders": {Type: schema.TypeBool, Optional: true},
				}},
			},
		},
	}
}

func versioningConfiguration(d *schema.ResourceData) (miniogo.BucketVersioningConfiguration, bool) {
	blocks := d.Get("versioning_configuration").([]any)
	if len(blocks) == 0 || blocks[0] == nil {
		return miniogo.BucketVersioningConfiguration{}, false
	}
	block := blocks[0].(map[string]any)
	config := miniogo.BucketVersioningConfiguration{}
	config.Status, _ = block["status"].(string)
	config.ExcludeFolders, _ = block["exclude_folders"].(bool)
	for _, prefix := range block["excluded_prefixes"].([]any) {
		if text, ok := prefix.(string); ok {
			config.ExcludedPrefixes = append(config.ExcludedPrefixes, miniogo.ExcludedPrefix{Prefix: text})
		}
	}
	return config, true
}

// putBucketVersioning is minioPutBucketVersioning.
func putBucketVersioning(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	config, ok := versioningConfiguration(d)
	if !ok {
		return nil
	}
	bucket := d.Get("bucket").(string)
	if err := meta.(*client).s3.SetBucketVersioning(ctx, bucket, config); err != nil {
		return resourceError("error putting bucket versioning configuration: %v", d.Id(), err)
	}
	d.SetId(bucket)
	return nil
}

// readBucketVersioning is minioReadBucketVersioning: an error (no bucket) fails the read; it
// never says "gone".
func readBucketVersioning(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	found, err := meta.(*client).s3.GetBucketVersioning(ctx, d.Id())
	if err != nil {
		return resourceError("failed to load bucket versioning", d.Id(), err)
	}
	config := map[string]any{"excluded_prefixes": []string{}, "exclude_folders": found.ExcludeFolders}
	if found.Status != "" {
		config["status"] = found.Status
	}
	for _, prefix := range found.ExcludedPrefixes {
		config["excluded_prefixes"] = append(config["excluded_prefixes"].([]string), prefix.Prefix)
	}
	if err := d.Set("bucket", d.Id()); err != nil {
		return diag.FromErr(err)
	}
	if err := d.Set("versioning_configuration", []any{config}); err != nil {
		return diag.FromErr(fmt.Errorf("error setting versioning configuration: %w", err))
	}
	return nil
}

// deleteBucketVersioning is minioDeleteBucketVersioning: suspends (nothing when suspended).
func deleteBucketVersioning(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if config, ok := versioningConfiguration(d); ok && config.Status == miniogo.Suspended {
		return nil
	}
	bucket := d.Get("bucket").(string)
	if err := meta.(*client).s3.SuspendVersioning(ctx, bucket); err != nil {
		return resourceError("error suspending bucket versioning: %s", bucket, err)
	}
	return nil
}
