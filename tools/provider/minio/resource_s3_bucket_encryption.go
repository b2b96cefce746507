package minio

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	"github.com/minio/minio-go/v7/pkg/sse"
)

// resourceBucketEncryption is minio_s3_bucket_server_side_encryption
// (resource_minio_s3_bucket_server_side_encryption_configuration.go).
func resourceBucketEncryption() *schema.Resource {
	return &schema.Resource{
		CreateContext: putBucketEncryption,
		ReadContext:   readBucketEncryption,
		UpdateContext: putBucketEncryption,
		DeleteContext: deleteBucketEncryption,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"bucket": {Type: schema.TypeString, Required: true, ForceNew: true},
			"encryption_type": {
				Type: schema.TypeString, Required: true,
				ValidateFunc: validation.StringInSlice([]string{"aws:kms"}, false),
			},
			"kms_key_id": {Type: schema.TypeString, Required: true},
		},
	}
}

// putBucketEncryption is minioPutBucketServerSideEncryption.
func putBucketEncryption(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	bucket := d.Get("bucket").(string)
	config := &sse.Configuration{Rules: []sse.Rule{{Apply: sse.ApplySSEByDefault{
		SSEAlgorithm: d.Get("encryption_type").(string), KmsMasterKeyID: d.Get("kms_key_id").(string),
	}}}}
	if err := meta.(*client).s3.SetBucketEncryption(ctx, bucket, config); err != nil {
		return resourceError("error putting bucket encryption configuration", d.Id(), err)
	}
	d.SetId(bucket)
	return nil
}

// readBucketEncryption is minioReadBucketServerSideEncryption: any error reads as "gone".
func readBucketEncryption(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	config, err := meta.(*client).s3.GetBucketEncryption(ctx, d.Id())
	if err != nil || len(config.Rules) == 0 {
		d.SetId("")
		return nil
	}
	if err := d.Set("bucket", d.Id()); err != nil {
		return diag.FromErr(err)
	}
	if err := d.Set("encryption_type", config.Rules[0].Apply.SSEAlgorithm); err != nil {
		return diag.FromErr(fmt.Errorf("error setting encryption type: %w", err))
	}
	if err := d.Set("kms_key_id", config.Rules[0].Apply.KmsMasterKeyID); err != nil {
		return diag.FromErr(fmt.Errorf("error setting encryption kms key id: %w", err))
	}
	return nil
}

// deleteBucketEncryption is minioDeleteBucketServerSideEncryption.
func deleteBucketEncryption(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	bucket := d.Get("bucket").(string)
	if err := meta.(*client).s3.RemoveBucketEncryption(ctx, bucket); err != nil {
		return resourceError("error removing bucket encryption", bucket, err)
	}
	return nil
}
