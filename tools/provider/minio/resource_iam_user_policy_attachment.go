package minio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/id"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// attachmentLocks serialise the read-modify-write of one user's policy list, as v1.20.1's
// userPolicyAttachmentLock does (two attachments of one user run in parallel).
var attachmentLocks sync.Map

func lockUser(user string) func() {
	lock, _ := attachmentLocks.LoadOrStore(user, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	return lock.(*sync.Mutex).Unlock
}

// resourceUserPolicyAttachment is minio_iam_user_policy_attachment
// (resource_minio_iam_user_policy_attachment.go). Every input is ForceNew: no Update.
func resourceUserPolicyAttachment() *schema.Resource {
	return &schema.Resource{
		CreateContext: createAttachment,
		ReadContext:   readAttachment,
		DeleteContext: deleteAttachment,
		Importer:      &schema.ResourceImporter{StateContext: importAttachment},
		Schema: map[string]*schema.Schema{
			"policy_name": {Type: schema.TypeString, Required: true, ForceNew: true, ValidateFunc: validatePolicyName},
			"user_name":   {Type: schema.TypeString, Required: true, ForceNew: true, ValidateFunc: validateUserName},
		},
	}
}

// userPolicies is minioReadUserPolicies: a missing user fails (unless an LDAP DN).
func userPolicies(ctx context.Context, a *admin, user string) ([]string, diag.Diagnostics) {
	info, err := a.getUserInfo(ctx, user)
	if err != nil && !(ldapUserPattern.MatchString(user) && errors.Is(err, errNoSuchUser)) {
		return nil, resourceError("failed to load user Infos", user, err)
	}
	return info.policies, nil
}

func contains(list []string, item string) bool {
	for _, each := range list {
		if each == item {
			return true
		}
	}
	return false
}

// createAttachment is minioCreateUserPolicyAttachment: the policy joins the user's list; the id
// is id.PrefixedUniqueId("<user>-").
func createAttachment(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	user, policy := d.Get("user_name").(string), d.Get("policy_name").(string)
	defer lockUser(user)()
	policies, diags := userPolicies(ctx, a, user)
	if diags != nil {
		return diags
	}
	if !contains(policies, policy) {
		if err := a.setPolicy(ctx, user, append(policies, policy)); err != nil {
			return resourceError("unable to Set User policy", user+" "+policy, err)
		}
	}
	d.SetId(id.PrefixedUniqueId(fmt.Sprintf("%s-", user)))
	return readAttachmentOf(ctx, d, a, user, policy)
}

// readAttachment is minioReadUserPolicyAttachment: a policy no longer attached reads as "gone";
// a missing user fails the read.
func readAttachment(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	user := d.Get("user_name").(string)
	defer lockUser(user)()
	return readAttachmentOf(ctx, d, meta.(*client).admin, user, d.Get("policy_name").(string))
}

func readAttachmentOf(ctx context.Context, d *schema.ResourceData, a *admin, user, policy string) diag.Diagnostics {
	policies, diags := userPolicies(ctx, a, user)
	if diags != nil {
		return diags
	}
	if !contains(policies, policy) {
		d.SetId("")
		return nil
	}
	if err := d.Set("policy_name", policy); err != nil {
		return diag.FromErr(err)
	}
	return nil
}

// deleteAttachment is minioDeleteUserPolicyAttachment: the policy leaves the user's list.
func deleteAttachment(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	user, policy := d.Get("user_name").(string), d.Get("policy_name").(string)
	defer lockUser(user)()
	policies, diags := userPolicies(ctx, a, user)
	if diags != nil {
		return diags
	}
	if !contains(policies, policy) {
		return nil
	}
	kept := []string{}
	for _, each := range policies {
		if each != policy {
			kept = append(kept, each)
		}
	}
	if err := a.setPolicy(ctx, user, kept); err != nil {
		return resourceError("unable to delete user policy", user, err)
	}
	return nil
}

// importAttachment is minioImportUserPolicyAttachment: "<user>/<policy>" becomes the inputs
// and a new id.
func importAttachment(_ context.Context, d *schema.ResourceData, _ any) ([]*schema.ResourceData, error) {
	parts := strings.SplitN(d.Id(), "/", 2)
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("unexpected format of ID (%q), expected <user-name>/<policy_name>", d.Id())
	}
	_ = d.Set("user_name", parts[0])
	_ = d.Set("policy_name", parts[1])
	d.SetId(id.PrefixedUniqueId(fmt.Sprintf("%s-", parts[0])))
	return []*schema.ResourceData{d}, nil
}
