package minio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// admin stands in for madmin-go's AdminClient, the MinIO admin API v1.20.1 manages identities
// with, on an endpoint that speaks IAM instead (the embedded endpoint is moto's server). The
// mapping is devtools/endpoint/embedded_s3.py's, which the tests read the server through: a
// MinIO user is an IAM user whose secret is its login profile and whose status is a tag, a canned
// policy is a local IAM policy whose MinIO admin statements (IAM cannot hold them) are a tag, a
// service account is an access key of its parent user (status on/off = Active/Inactive).
type admin struct {
	iam *iam.Client
}

const (
	// AdminStatementsTag holds a policy's `admin:` statements as JSON (devtools/provision
	// actions.ADMIN_STATEMENTS_TAG had the same name).
	adminStatementsTag = "minio-admin-statements"
	// userStatusTag marks a disabled user (madmin.AccountDisabled).
	userStatusTag = "minio-status"
	adminPrefix   = "admin:"
	statusOn      = "on"
	statusOff     = "off"
	userEnabled   = "enabled"
	userDisabled  = "disabled"
)

// errNoSuchUser is madmin's XMinioAdminNoSuchUser.
var errNoSuchUser = errors.New("XMinioAdminNoSuchUser: The specified user does not exist")

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func notFound(err error) bool {
	var missing *types.NoSuchEntityException
	return errors.As(err, &missing) || errorCode(err) == "NoSuchEntity"
}

// userInfo is madmin GetUserInfo: the user's status and policy names (PolicyName, split).
type userInfo struct {
	status   string
	policies []string
}

func (a *admin) getUserInfo(ctx context.Context, name string) (userInfo, error) {
	found, err := a.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if notFound(err) {
		return userInfo{}, errNoSuchUser
	}
	if err != nil {
		return userInfo{}, err
	}
	info := userInfo{status: userEnabled}
	for _, tag := range found.User.Tags {
		if aws.ToString(tag.Key) == userStatusTag && aws.ToString(tag.Value) == userDisabled {
			info.status = userDisabled
		}
	}
	attached, err := a.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{
		UserName: aws.String(name),
	})
	if err != nil {
		return userInfo{}, err
	}
	for _, policy := range attached.AttachedPolicies {
		info.policies = append(info.policies, aws.ToString(policy.PolicyName))
	}
	return info, nil
}

// addUser is madmin AddUser: makes the user, or silently replaces an existing one's secret and
// enables it.
func (a *admin) addUser(ctx context.Context, name, secret string) error {
	_, err := a.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if notFound(err) {
		_, err = a.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	} else if err == nil {
		err = a.setUserStatus(ctx, name, userEnabled)
	}
	if err != nil {
		return err
	}
	return a.setSecret(ctx, name, secret)
}

func (a *admin) setSecret(ctx context.Context, name, secret string) error {
	_, err := a.iam.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{
		UserName: aws.String(name), Password: aws.String(secret),
	})
	if notFound(err) {
		_, err = a.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
			UserName: aws.String(name), Password: aws.String(secret),
		})
	}
	return err
}

// setUserStatus is madmin SetUserStatus (enabled or disabled).
func (a *admin) setUserStatus(ctx context.Context, name, status string) error {
	if status == userDisabled {
		_, err := a.iam.TagUser(ctx, &iam.TagUserInput{
			UserName: aws.String(name),
			Tags:     []types.Tag{{Key: aws.String(userStatusTag), Value: aws.String(userDisabled)}},
		})
		return err
	}
	_, err := a.iam.UntagUser(ctx, &iam.UntagUserInput{
		UserName: aws.String(name), TagKeys: []string{userStatusTag},
	})
	return err
}

// removeUser is madmin RemoveUser: the user goes, with its service accounts and mappings.
func (a *admin) removeUser(ctx context.Context, name string) error {
	keys, err := a.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if notFound(err) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	for _, key := range keys.AccessKeyMetadata {
		if _, err := a.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
			UserName: aws.String(name), AccessKeyId: key.AccessKeyId,
		}); err != nil {
			return err
		}
	}
	if err := a.setPolicy(ctx, name, nil); err != nil {
		return err
	}
	if _, err := a.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{
		UserName: aws.String(name),
	}); err != nil && !notFound(err) {
		return err
	}
	_, err = a.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
	return err
}

func (a *admin) policyArn(ctx context.Context, name string) (string, error) {
	paginator := iam.NewListPoliciesPaginator(a.iam, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, policy := range page.Policies {
			if aws.ToString(policy.PolicyName) == name {
				return aws.ToString(policy.Arn), nil
			}
		}
	}
	return "", nil
}

// splitAdminStatements separates MinIO's `admin:` statements, which IAM refuses, from the rest.
func splitAdminStatements(name string, document map[string]any) (map[string]any, []any, error) {
	var kept, adminStatements []any
	for _, statement := range asList(document["Statement"]) {
		fields, _ := statement.(map[string]any)
		actions := asList(fields["Action"])
		mine := 0
		for _, action := range actions {
			if text, _ := action.(string); strings.HasPrefix(text, adminPrefix) {
				mine++
			}
		}
		switch {
		case mine == 0:
			kept = append(kept, statement)
		case mine != len(actions) || fields["Effect"] != "Allow":
			return nil, nil, fmt.Errorf("policy %q: a statement mixes MinIO admin actions with "+
				"others, or denies them; the embedded endpoint has no admin API", name)
		default:
			adminStatements = append(adminStatements, statement)
		}
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("policy %q holds only MinIO admin statements, which the "+
			"embedded endpoint cannot hold", name)
	}
	plain := map[string]any{}
	for key, value := range document {
		plain[key] = value
	}
	plain["Statement"] = kept
	return plain, adminStatements, nil
}

func asList(value any) []any {
	if list, ok := value.([]any); ok {
		return list
	}
	if value == nil {
		return nil
	}
	return []any{value}
}

// addCannedPolicy is madmin AddCannedPolicy: makes or silently replaces the policy.
func (a *admin) addCannedPolicy(ctx context.Context, name string, text []byte) error {
	var document map[string]any
	if err := json.Unmarshal(text, &document); err != nil {
		return fmt.Errorf("policy %q is not a JSON object: %w", name, err)
	}
	plain, adminStatements, err := splitAdminStatements(name, document)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(plain)
	var tags []types.Tag
	if len(adminStatements) > 0 {
		held, _ := json.Marshal(adminStatements)
		tags = []types.Tag{{Key: aws.String(adminStatementsTag), Value: aws.String(string(held))}}
	}
	arn, err := a.policyArn(ctx, name)
	if err != nil {
		return err
	}
	if arn == "" {
		_, err := a.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName: aws.String(name), PolicyDocument: aws.String(string(body)), Tags: tags,
		})
		return err
	}
	if err := a.dropOldVersions(ctx, arn); err != nil {
		return err
	}
	if _, err := a.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
		PolicyArn: aws.String(arn), PolicyDocument: aws.String(string(body)), SetAsDefault: true,
	}); err != nil {
		return err
	}
	if _, err := a.iam.UntagPolicy(ctx, &iam.UntagPolicyInput{
		PolicyArn: aws.String(arn), TagKeys: []string{adminStatementsTag},
	}); err != nil {
		return err
	}
	if len(tags) > 0 {
		_, err = a.iam.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tags})
	}
	return err
}

// dropOldVersions keeps IAM under its five versions a policy.
func (a *admin) dropOldVersions(ctx context.Context, arn string) error {
	versions, err := a.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return err
	}
	for _, version := range versions.Versions {
		if !version.IsDefaultVersion {
			if _, err := a.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{
				PolicyArn: aws.String(arn), VersionId: version.VersionId,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// infoCannedPolicy is madmin InfoCannedPolicy: the whole document, admin statements included.
func (a *admin) infoCannedPolicy(ctx context.Context, name string) ([]byte, error) {
	arn, err := a.policyArn(ctx, name)
	if err != nil {
		return nil, err
	}
	if arn == "" {
		return nil, fmt.Errorf("XMinioAdminNoSuchPolicy: The canned policy does not exist")
	}
	policy, err := a.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	version, err := a.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{
		PolicyArn: aws.String(arn), VersionId: policy.Policy.DefaultVersionId,
	})
	if err != nil {
		return nil, err
	}
	text, err := url.QueryUnescape(aws.ToString(version.PolicyVersion.Document))
	if err != nil {
		return nil, err
	}
	var document map[string]any
	if err := json.Unmarshal([]byte(text), &document); err != nil {
		return nil, err
	}
	for _, tag := range policy.Policy.Tags {
		if aws.ToString(tag.Key) != adminStatementsTag {
			continue
		}
		var adminStatements []any
		if err := json.Unmarshal([]byte(aws.ToString(tag.Value)), &adminStatements); err != nil {
			return nil, err
		}
		document["Statement"] = append(asList(document["Statement"]), adminStatements...)
	}
	return json.Marshal(document)
}

// removeCannedPolicy is madmin RemoveCannedPolicy.
func (a *admin) removeCannedPolicy(ctx context.Context, name string) error {
	arn, err := a.policyArn(ctx, name)
	if err != nil {
		return err
	}
	if arn == "" {
		return fmt.Errorf("XMinioAdminNoSuchPolicy: The canned policy does not exist")
	}
	if err := a.dropOldVersions(ctx, arn); err != nil {
		return err
	}
	_, err = a.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	return err
}

// setPolicy is madmin SetPolicy(policies joined by ",", user, false): the user's policies
// become exactly these.
func (a *admin) setPolicy(ctx context.Context, user string, policies []string) error {
	info, err := a.getUserInfo(ctx, user)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, name := range policies {
		wanted[name] = true
	}
	for _, name := range info.policies {
		if wanted[name] {
			delete(wanted, name)
			continue
		}
		arn, err := a.policyArn(ctx, name)
		if err != nil {
			return err
		}
		if _, err := a.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{
			UserName: aws.String(user), PolicyArn: aws.String(arn),
		}); err != nil {
			return err
		}
	}
	for _, name := range policies {
		if !wanted[name] {
			continue
		}
		arn, err := a.policyArn(ctx, name)
		if err != nil {
			return err
		}
		if arn == "" {
			return fmt.Errorf("XMinioAdminNoSuchPolicy: policy %q does not exist", name)
		}
		if _, err := a.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
			UserName: aws.String(user), PolicyArn: aws.String(arn),
		}); err != nil {
			return err
		}
	}
	return nil
}

// serviceAccount is madmin InfoServiceAccount's answer.
type serviceAccount struct {
	parentUser, status, policy string
}

// addServiceAccount is madmin AddServiceAccount for a target user: a new key pair, every time.
func (a *admin) addServiceAccount(ctx context.Context, user string) (string, string, error) {
	created, err := a.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if notFound(err) {
		return "", "", errNoSuchUser
	}
	if err != nil {
		return "", "", err
	}
	return aws.ToString(created.AccessKey.AccessKeyId), aws.ToString(created.AccessKey.SecretAccessKey), nil
}

// infoServiceAccount is madmin InfoServiceAccount: the parent, the status, and the policy,
// which for an account without its own is its parent's policies merged into one document.
func (a *admin) infoServiceAccount(ctx context.Context, accessKey string) (serviceAccount, error) {
	missing := fmt.Errorf("XMinioAdminServiceAccountNotFound: The specified service account is not found (%s)", accessKey)
	used, err := a.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(accessKey)})
	if err != nil || aws.ToString(used.UserName) == "" {
		if err == nil || notFound(err) || strings.Contains(strings.ToLower(err.Error()), "not found") {
			return serviceAccount{}, missing
		}
		return serviceAccount{}, err
	}
	user := aws.ToString(used.UserName)
	keys, err := a.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if notFound(err) {
		return serviceAccount{}, missing
	}
	if err != nil {
		return serviceAccount{}, err
	}
	account := serviceAccount{parentUser: user}
	for _, key := range keys.AccessKeyMetadata {
		if aws.ToString(key.AccessKeyId) == accessKey {
			account.status = statusOn
			if key.Status == types.StatusTypeInactive {
				account.status = statusOff
			}
		}
	}
	if account.status == "" {
		return serviceAccount{}, missing
	}
	account.policy, err = a.impliedPolicy(ctx, user)
	return account, err
}

func (a *admin) impliedPolicy(ctx context.Context, user string) (string, error) {
	info, err := a.getUserInfo(ctx, user)
	if err != nil {
		return "", err
	}
	statements := []any{}
	for _, name := range info.policies {
		text, err := a.infoCannedPolicy(ctx, name)
		if err != nil {
			return "", err
		}
		var document map[string]any
		if err := json.Unmarshal(text, &document); err != nil {
			return "", err
		}
		statements = append(statements, asList(document["Statement"])...)
	}
	merged, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(merged), err
}

// setServiceAccountStatus is madmin UpdateServiceAccount with NewStatus.
func (a *admin) setServiceAccountStatus(ctx context.Context, accessKey, user, status string) error {
	wanted := types.StatusTypeActive
	if status == statusOff {
		wanted = types.StatusTypeInactive
	}
	_, err := a.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(accessKey), Status: wanted,
	})
	return err
}

// deleteServiceAccount is madmin DeleteServiceAccount.
func (a *admin) deleteServiceAccount(ctx context.Context, accessKey string) error {
	account, err := a.infoServiceAccount(ctx, accessKey)
	if err != nil {
		return err
	}
	_, err = a.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{
		UserName: aws.String(account.parentUser), AccessKeyId: aws.String(accessKey),
	})
	return err
}

// listServiceAccounts is madmin ListServiceAccounts: the access keys of user.
func (a *admin) listServiceAccounts(ctx context.Context, user string) ([]string, error) {
	keys, err := a.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, err
	}
	found := []string{}
	for _, key := range keys.AccessKeyMetadata {
		found = append(found, aws.ToString(key.AccessKeyId))
	}
	return found, nil
}
