package minio

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-cty/cty"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
)

// deleteMarker is the expiration that removes expired delete markers.
const deleteMarker = "DeleteMarker"

// resourceLifecycle is minio_ilm_policy (resource_minio_ilm_policy.go).
func resourceLifecycle() *schema.Resource {
	return &schema.Resource{
		CreateContext: createLifecycle,
		ReadContext:   readLifecycle,
		UpdateContext: updateLifecycle,
		DeleteContext: deleteLifecycle,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Description:   "`minio_ilm_policy` handles lifecycle settings for a given `minio_s3_bucket`.",
		Schema: map[string]*schema.Schema{
			"bucket": {
				Type: schema.TypeString, Required: true, ForceNew: true,
				ValidateFunc: validation.StringLenBetween(0, 63),
			},
			"rule": {
				Type:     schema.TypeList,
				Required: true,
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"id":         {Type: schema.TypeString, Required: true},
					"expiration": {Type: schema.TypeString, Optional: true, ValidateDiagFunc: validateExpiration},
					"noncurrent_version_expiration_days": {
						Type: schema.TypeInt, Optional: true, ValidateDiagFunc: validateNoncurrentDays,
					},
					// Computed only: Create always writes "Enabled"; a preview of a new rule
					// leaves it unknown.
					"status": {Type: schema.TypeString, Computed: true},
					"filter": {Type: schema.TypeString, Optional: true},
					"tags":   {Type: schema.TypeMap, Optional: true},
				}},
			},
		},
	}
}

// validateExpiration is validateILMExpiration.
func validateExpiration(value any, _ cty.Path) diag.Diagnostics {
	if (lifecycle.Expiration{}) == parseExpiration(value.(string)) {
		return diag.Errorf("expiration must be a duration (5d), date (1970-01-01), or \"DeleteMarker\"")
	}
	return nil
}

// validateNoncurrentDays is validateILMNoncurrentVersionExpiration.
func validateNoncurrentDays(value any, _ cty.Path) diag.Diagnostics {
	if value.(int) < 1 {
		return diag.Errorf("noncurrent_version_expiration_days must be strictly positive")
	}
	return nil
}

// parseExpiration is parseILMExpiration: "DeleteMarker", "<N>d" or a date.
func parseExpiration(text string) lifecycle.Expiration {
	var days int
	if text == deleteMarker {
		return lifecycle.Expiration{DeleteMarker: true}
	}
	if _, err := fmt.Sscanf(text, "%dd", &days); err == nil {
		return lifecycle.Expiration{Days: lifecycle.ExpirationDays(days)}
	}
	if date, err := time.Parse("2006-01-02", text); err == nil {
		return lifecycle.Expiration{Date: lifecycle.ExpirationDate{Time: date}}
	}
	return lifecycle.Expiration{}
}

// createLifecycle is minioCreateILMPolicy: the whole configuration, replaced. Tags go into
// Filter.And with the prefix; a rule without tags filters by prefix alone.
func createLifecycle(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	config := lifecycle.NewConfiguration()
	bucket := d.Get("bucket").(string)
	for _, item := range d.Get("rule").([]any) {
		rule := item.(map[string]any)
		var filter lifecycle.Filter
		tags := rule["tags"].(map[string]any)
		if len(tags) > 0 {
			filter.And.Prefix = rule["filter"].(string)
			for key, value := range tags {
				filter.And.Tags = append(filter.And.Tags, lifecycle.Tag{Key: key, Value: value.(string)})
			}
		} else {
			filter.Prefix = rule["filter"].(string)
		}
		config.Rules = append(config.Rules, lifecycle.Rule{
			ID:         rule["id"].(string),
			Expiration: parseExpiration(rule["expiration"].(string)),
			NoncurrentVersionExpiration: lifecycle.NoncurrentVersionExpiration{
				NoncurrentDays: lifecycle.ExpirationDays(rule["noncurrent_version_expiration_days"].(int)),
			},
			Status:     "Enabled",
			RuleFilter: filter,
		})
	}
	if err := meta.(*client).s3.SetBucketLifecycle(ctx, bucket, config); err != nil {
		return resourceError("creating bucket lifecycle failed", bucket, err)
	}
	d.SetId(bucket)
	return readLifecycle(ctx, d, meta)
}

// readLifecycle is minioReadILMPolicy: any error reads as "gone".
func readLifecycle(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	config, err := meta.(*client).s3.GetBucketLifecycle(ctx, d.Id())
	if err != nil {
		d.SetId("")
		return nil
	}
	if err := d.Set("bucket", d.Id()); err != nil {
		return resourceError("setting bucket failed", d.Id(), err)
	}
	rules := make([]map[string]any, 0, len(config.Rules))
	for _, r := range config.Rules {
		var expiration string
		switch {
		case bool(r.Expiration.DeleteMarker):
			expiration = deleteMarker
		case r.Expiration.Days != 0:
			expiration = fmt.Sprintf("%dd", r.Expiration.Days)
		case !r.Expiration.IsNull():
			expiration = r.Expiration.Date.Format("2006-01-02")
		}
		prefix, tags := r.RuleFilter.Prefix, map[string]string{}
		if len(r.RuleFilter.And.Tags) > 0 {
			prefix = r.RuleFilter.And.Prefix
			for _, tag := range r.RuleFilter.And.Tags {
				tags[tag.Key] = tag.Value
			}
		}
		rules = append(rules, map[string]any{
			"id":                                 r.ID,
			"expiration":                         expiration,
			"noncurrent_version_expiration_days": int(r.NoncurrentVersionExpiration.NoncurrentDays),
			"status":                             r.Status,
			"filter":                             prefix,
			"tags":                               tags,
		})
	}
	if err := d.Set("rule", rules); err != nil {
		return resourceError("reading lifecycle configuration failed", d.Id(), err)
	}
	return nil
}

// updateLifecycle is minioUpdateILMPolicy, which drops Create's diagnostics: a configuration
// the server refuses is not an error of the update; the state is what the server holds after.
func updateLifecycle(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if d.HasChange("rule") {
		_ = createLifecycle(ctx, d, meta)
	}
	return readLifecycle(ctx, d, meta)
}

// deleteLifecycle is minioDeleteILMPolicy: an empty configuration.
func deleteLifecycle(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if err := meta.(*client).s3.SetBucketLifecycle(ctx, d.Id(), lifecycle.NewConfiguration()); err != nil {
		return resourceError("deleting lifecycle configuration failed", d.Id(), err)
	}
	d.SetId("")
	return nil
}
