package minio

import (
	"context"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// resourceServiceAccount is minio_iam_service_account (resource_minio_service_account.go).
func resourceServiceAccount() *schema.Resource {
	return &schema.Resource{
		CreateContext: createServiceAccount,
		ReadContext:   readServiceAccount,
		UpdateContext: updateServiceAccount,
		DeleteContext: deleteServiceAccount,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"target_user":   {Type: schema.TypeString, Required: true, ForceNew: true},
			"disable_user":  {Type: schema.TypeBool, Optional: true, Default: false, Description: "Disable service account"},
			"update_secret": {Type: schema.TypeBool, Optional: true, Default: false, Description: "rotate secret key"},
			"status":        {Type: schema.TypeString, Computed: true},
			"secret_key":    {Type: schema.TypeString, Computed: true, Sensitive: true},
			"access_key":    {Type: schema.TypeString, Computed: true},
			"policy": {
				Type: schema.TypeString, Optional: true, ValidateFunc: validatePolicyJSON,
				DiffSuppressFunc: equivalentPolicies, Description: "policy of service account",
			},
		},
	}
}

// errOwnPolicy: IAM access keys carry no policy of their own.
var errOwnPolicy = errorf("a service account policy of its own needs MinIO's admin API, which " +
	"the embedded endpoint does not serve (an account without one takes its parent's)")

// createServiceAccount is minioCreateServiceAccount: a new key pair, then disable when asked.
func createServiceAccount(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	user := d.Get("target_user").(string)
	if d.Get("policy").(string) != "" {
		return resourceError("error creating service account", user, errOwnPolicy)
	}
	accessKey, secretKey, err := a.addServiceAccount(ctx, user)
	if err != nil {
		return resourceError("error creating service account", user, err)
	}
	d.SetId(accessKey)
	_ = d.Set("access_key", accessKey)
	_ = d.Set("secret_key", secretKey)
	if d.Get("disable_user").(bool) {
		if err := a.setServiceAccountStatus(ctx, accessKey, user, statusOff); err != nil {
			return resourceError("error disabling service account %s: %s", d.Id(), err)
		}
	}
	return readServiceAccount(ctx, d, meta)
}

// updateServiceAccount is minioUpdateServiceAccount: the status follows disable_user; a new
// secret or an own policy cannot be held by the endpoint.
func updateServiceAccount(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	wanted := statusOn
	if d.Get("disable_user").(bool) {
		wanted = statusOff
	}
	account, err := a.infoServiceAccount(ctx, d.Id())
	if err != nil {
		return resourceError("error to disable service account", d.Id(), err)
	}
	if account.status != wanted {
		if err := a.setServiceAccountStatus(ctx, d.Id(), account.parentUser, wanted); err != nil {
			return resourceError("error to disable service account", d.Id(), err)
		}
	}
	if d.Get("update_secret").(bool) || d.HasChange("secret_key") {
		// UpdateServiceAccount with NewSecretKey: IAM cannot change an access key's secret.
		return resourceError("error updating service account Key %s: %s", d.Id(),
			errorf("the embedded endpoint cannot change a service account's secret; replace the account instead"))
	}
	if d.HasChange("policy") && d.Get("policy").(string) != "" {
		return resourceError("error updating service account policy %s: %s", d.Id(), errOwnPolicy)
	}
	return readServiceAccount(ctx, d, meta)
}

// readServiceAccount is minioReadServiceAccount: an error (a missing account too) fails the
// read; status, disable_user, target_user and policy come from the server.
func readServiceAccount(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	account, err := meta.(*client).admin.infoServiceAccount(ctx, d.Id())
	if err != nil {
		return resourceError("error reading service account %s: %s", d.Id(), err)
	}
	if _, ok := d.GetOk("access_key"); !ok {
		_ = d.Set("access_key", d.Id())
	}
	if err := d.Set("status", account.status); err != nil {
		return resourceError("reading service account failed", d.Id(), err)
	}
	_ = d.Set("disable_user", account.status == statusOff)
	if err := d.Set("target_user", account.parentUser); err != nil {
		return resourceError("reading service account failed", d.Id(), err)
	}
	_ = d.Set("policy", account.policy)
	return nil
}

// deleteServiceAccount is minioDeleteServiceAccount: when the delete fails, an account that is
// no longer in its user's list counts as deleted.
func deleteServiceAccount(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	if err := a.deleteServiceAccount(ctx, d.Id()); err != nil {
		accounts, listErr := a.listServiceAccounts(ctx, d.Get("target_user").(string))
		if listErr != nil {
			return resourceError("error deleting service account %s: %s", d.Id(), listErr)
		}
		if contains(accounts, d.Id()) {
			return resourceError("error deleting service account %s: %s", d.Id(),
				errorf("service account %s not deleted", d.Id()))
		}
	}
	d.SetId("")
	return nil
}
