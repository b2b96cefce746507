package minio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

var (
	// The user-name patterns of resource_minio_iam_user.go.
	ldapUserPattern   = regexp.MustCompile(`^(?:(CN=([^,]*)),)+(?:((?:(?:CN|OU)=[^,]+,?)+),)+((?:DC=[^,]+,?)+)$`)
	staticUserPattern = regexp.MustCompile(`^[0-9A-Za-z=,.@\-_+]+$`)
)

// resourceUser is minio_iam_user (resource_minio_iam_user.go).
func resourceUser() *schema.Resource {
	return &schema.Resource{
		CreateContext: createUser,
		ReadContext:   readUser,
		UpdateContext: updateUser,
		DeleteContext: deleteUser,
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"name": {Type: schema.TypeString, Required: true, ValidateFunc: validateUserName, ForceNew: true},
			"force_destroy": {
				Type: schema.TypeBool, Optional: true, Default: false,
				Description: "Delete user even if it has non-Terraform-managed IAM access keys",
			},
			"disable_user":  {Type: schema.TypeBool, Optional: true, Default: false, Description: "Disable user"},
			"update_secret": {Type: schema.TypeBool, Optional: true, Default: false, Description: "Rotate Minio User Secret Key"},
			"status":        {Type: schema.TypeString, Computed: true},
			"secret":        {Type: schema.TypeString, Computed: true, Optional: true, Sensitive: true},
			"tags":          {Type: schema.TypeMap, Optional: true},
		},
	}
}

// validateUserName is validateMinioIamUserName.
func validateUserName(value any, key string) ([]string, []error) {
	text := value.(string)
	if !staticUserPattern.MatchString(text) && !ldapUserPattern.MatchString(text) {
		return nil, []error{fmt.Errorf("only alphanumeric characters, hyphens, underscores, commas, "+
			"periods, @ symbols, plus and equals signs allowed or a valid LDAP Distinguished Name "+
			"(DN) in %q: %q", key, text)}
	}
	return nil, nil
}

// generateSecret is generateSecretAccessKey (utils.go): 40 random bytes, base64url.
func generateSecret() (string, error) {
	random := make([]byte, 40)
	if _, err := rand.Read(random); err != nil {
		return "", errors.New("could not generate Secret Key")
	}
	return base64.URLEncoding.EncodeToString(random), nil
}

// createUser is minioCreateUser: AddUser (silently replacing an existing user's secret), then
// disable when asked.
func createUser(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	name, secret := d.Get("name").(string), d.Get("secret").(string)
	if secret == "" {
		var err error
		if secret, err = generateSecret(); err != nil {
			return resourceError("error creating user", name, err)
		}
	}
	if err := a.addUser(ctx, name, secret); err != nil {
		return resourceError("error creating user", name, err)
	}
	d.SetId(name)
	_ = d.Set("secret", secret)
	if d.Get("disable_user").(bool) {
		if err := a.setUserStatus(ctx, name, userDisabled); err != nil {
			return resourceError("error disabling IAM User %s: %s", d.Id(), err)
		}
	}
	return readUser(ctx, d, meta)
}

// updateUser is minioUpdateUser: force_destroy deletes the user (its own quirk), the status
// follows disable_user, update_secret rotates, a changed secret is set.
func updateUser(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	a := meta.(*client).admin
	name := d.Get("name").(string)
	wanted := userEnabled
	if d.Get("disable_user").(bool) {
		wanted = userDisabled
	}
	if d.Get("force_destroy").(bool) {
		return deleteUser(ctx, d, meta)
	}
	if info, _ := a.getUserInfo(ctx, name); info.status != wanted {
		if err := a.setUserStatus(ctx, name, wanted); err != nil {
			return resourceError("error to disable IAM User %s: %s", d.Id(), err)
		}
	}
	secret := d.Get("secret").(string)
	wantedSecret := secret
	if d.Get("update_secret").(bool) {
		var err error
		if wantedSecret, err = generateSecret(); err != nil {
			return resourceError("error creating user", d.Id(), err)
		}
	}
	if d.HasChange("secret") || secret != wantedSecret {
		if err := a.setSecret(ctx, name, wantedSecret); err != nil {
			return resourceError("error updating IAM User Key %s: %s", d.Id(), err)
		}
		_ = d.Set("secret", wantedSecret)
	}
	return readUser(ctx, d, meta)
}

// readUser is minioReadUser: XMinioAdminNoSuchUser reads as "gone"; status from the server;
// nothing reads force_destroy, disable_user or update_secret back.
func readUser(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	info, err := meta.(*client).admin.getUserInfo(ctx, d.Id())
	if errors.Is(err, errNoSuchUser) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return resourceError("error reading IAM User", d.Id(), err)
	}
	if _, ok := d.GetOk("name"); !ok {
		_ = d.Set("name", d.Id())
	}
	if err := d.Set("status", info.status); err != nil {
		return resourceError("reading IAM user failed", d.Id(), err)
	}
	return nil
}

// deleteUser is minioDeleteUser (RemoveUser; the endpoint has no groups to leave first).
func deleteUser(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	if err := meta.(*client).admin.removeUser(ctx, d.Get("name").(string)); err != nil {
		return resourceError("error deleting IAM User %s: %s", d.Id(), err)
	}
	d.SetId("")
	return nil
}
