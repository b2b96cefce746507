package minio

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/id"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

var policyNamePattern = regexp.MustCompile(`^[\w+=,.@:-]*$`)

// resourcePolicy is minio_iam_policy (resource_minio_iam_policy.go).
func resourcePolicy() *schema.Resource {
	return &schema.Resource{
		CreateContext: createPolicy,
		ReadContext:   readPolicy,
		UpdateContext: updatePolicy,
		DeleteContext: deletePolicy,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"policy": {
				Type: schema.TypeString, Required: true,
				ValidateFunc: validatePolicyJSON, DiffSuppressFunc: equivalentPolicies,
			},
			"name": {
				Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true,
				ConflictsWith: []string{"name_prefix"}, ValidateFunc: validatePolicyName,
			},
			"name_prefix": {
				Type: schema.TypeString, Optional: true, ForceNew: true,
				ConflictsWith: []string{"name"}, ValidateFunc: validatePolicyName,
			},
		},
	}
}

// validatePolicyName is validateIAMNamePolicy.
func validatePolicyName(value any, key string) ([]string, []error) {
	text := value.(string)
	var problems []error
	if len(text) > 128 {
		problems = append(problems, fmt.Errorf("%q cannot be longer than 128 characters", key))
	}
	if len(text) > 96 {
		problems = append(problems, fmt.Errorf("%q cannot be longer than 96 characters, name is limited to 128", key))
	}
	if !policyNamePattern.MatchString(text) {
		problems = append(problems, fmt.Errorf("%q must match [\\w+=,.@:-]", key))
	}
	return nil, problems
}

// createPolicy is minioCreatePolicy: AddCannedPolicy makes or silently replaces it.
func createPolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	name := d.Get("name").(string)
	if name == "" {
		if prefix := d.Get("name_prefix").(string); prefix != "" {
			name = id.PrefixedUniqueId(prefix)
		} else {
			name = id.UniqueId()
		}
	}
	if err := meta.(*client).admin.addCannedPolicy(ctx, name, []byte(d.Get("policy").(string))); err != nil {
		return resourceError("unable to create policy", name, err)
	}
	d.SetId(name)
	return readPolicy(ctx, d, meta)
}

// readPolicy is minioReadPolicy: an error (a missing policy too) fails the read.
func readPolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	document, err := meta.(*client).admin.infoCannedPolicy(ctx, d.Id())
	if err != nil {
		return resourceError("unable to read policy", d.Id(), err)
	}
	if err := d.Set("name", d.Id()); err != nil {
		return diag.FromErr(err)
	}
	if err := d.Set("policy", strings.TrimSpace(string(document))); err != nil {
		return diag.FromErr(err)
	}
	return nil
}

// updatePolicy is minioUpdatePolicy.
func updatePolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if err := meta.(*client).admin.addCannedPolicy(ctx, d.Id(), []byte(d.Get("policy").(string))); err != nil {
		return resourceError("unable to update policy", d.Id(), err)
	}
	return readPolicy(ctx, d, meta)
}

// deletePolicy is minioDeletePolicy.
func deletePolicy(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if err := meta.(*client).admin.removeCannedPolicy(ctx, d.Id()); err != nil {
		return resourceError("unable to delete policy", d.Id(), err)
	}
	_ = d.Set("policy", "")
	return nil
}
