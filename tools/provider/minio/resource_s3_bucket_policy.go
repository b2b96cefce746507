package minio

import (
	"context"
	"fmt"
	"strings"

	awspolicy "github.com/hashicorp/awspolicyequivalence"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/structure"
)

// resourceBucketPolicy is minio_s3_bucket_policy (resource_minio_s3_bucket_policy.go).
func resourceBucketPolicy() *schema.Resource {
	return &schema.Resource{
		CreateContext: putBucketPolicy,
		ReadContext:   readBucketPolicy,
		UpdateContext: putBucketPolicy,
		DeleteContext: deleteBucketPolicy,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"bucket": {Type: schema.TypeString, Required: true, ForceNew: true},
			"policy": {
				Type: schema.TypeString, Required: true,
				ValidateFunc: validatePolicyJSON, DiffSuppressFunc: equivalentPolicies,
			},
		},
	}
}

// validatePolicyJSON is validateIAMPolicyJSON (resource_minio_iam_policy.go).
func validatePolicyJSON(value any, key string) ([]string, []error) {
	text := value.(string)
	if text == "" || text[:1] != "{" {
		return nil, []error{fmt.Errorf("%q contains an invalid JSON policy", key)}
	}
	if _, err := structure.NormalizeJsonString(text); err != nil {
		return nil, []error{fmt.Errorf("%q contains an invalid JSON: %s", key, err)}
	}
	return nil, nil
}

// equivalentPolicies is suppressEquivalentAwsPolicyDiffs: no diff between equivalent policies.
func equivalentPolicies(_, old, new string, _ *schema.ResourceData) bool {
	same, err := awspolicy.PoliciesAreEquivalent(old, new)
	return err == nil && same
}

// putBucketPolicy is minioPutBucketPolicy.
func putBucketPolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	policy, err := structure.NormalizeJsonString(d.Get("policy").(string))
	if err != nil {
		return resourceError("unable to set bucket policy with invalid JSON: %w", policy, err)
	}
	bucket := d.Get("bucket").(string)
	if err := meta.(*client).s3.SetBucketPolicy(ctx, bucket, policy); err != nil {
		return resourceError("error putting bucket policy: %s", policy, err)
	}
	d.SetId(bucket)
	return nil
}

// readBucketPolicy is minioReadBucketPolicy: an error fails the read; a policy removed behind
// the stack reads as "" (drift, not "gone"); an equivalent text keeps the stored one.
func readBucketPolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	actual, err := meta.(*client).s3.GetBucketPolicy(ctx, d.Id())
	if err != nil {
		return resourceError("failed to load bucket policy", d.Id(), err)
	}
	policy, err := secondUnlessEquivalent(d.Get("policy").(string), actual)
	if err != nil {
		return resourceError("error while setting policy", policy, err)
	}
	policy, err = structure.NormalizeJsonString(policy)
	if err != nil {
		return resourceError("policy is invalid JSON", policy, err)
	}
	if err := d.Set("policy", policy); err != nil {
		return diag.FromErr(err)
	}
	if err := d.Set("bucket", d.Id()); err != nil {
		return diag.FromErr(err)
	}
	return nil
}

// secondUnlessEquivalent is secondJSONUnlessEquivalent.
func secondUnlessEquivalent(old, new string) (string, error) {
	switch {
	case strings.TrimSpace(new) == "":
		return "", nil
	case strings.TrimSpace(new) == "{}":
		return "{}", nil
	case strings.TrimSpace(old) == "" || strings.TrimSpace(old) == "{}":
		return new, nil
	}
	same, err := awspolicy.PoliciesAreEquivalent(old, new)
	if err != nil {
		return "", err
	}
	if same {
		return old, nil
	}
	return new, nil
}

// deleteBucketPolicy is minioDeleteBucketPolicy: an empty policy.
func deleteBucketPolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	bucket := d.Get("bucket").(string)
	if err := meta.(*client).s3.SetBucketPolicy(ctx, bucket, ""); err != nil {
		return resourceError("error deleting bucket", bucket, err)
	}
	return nil
}
