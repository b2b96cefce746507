package minio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	awspolicy "github.com/hashicorp/awspolicyequivalence"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/id"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// awsResourcePrefix is the ARN prefix of a bucket (payload.go).
const awsResourcePrefix = "arn:aws:s3:::"

// resourceBucket is minio_s3_bucket (resource_minio_s3_bucket.go).
func resourceBucket() *schema.Resource {
	return &schema.Resource{
		CreateContext: createBucket,
		ReadContext:   readBucket,
		UpdateContext: updateBucket,
		DeleteContext: deleteBucket,
		Importer:      &schema.ResourceImporter{StateContext: importBucket},
		SchemaVersion: 0,
		Schema: map[string]*schema.Schema{
			"bucket": {
				Type:          schema.TypeString,
				Optional:      true,
				Computed:      true,
				ForceNew:      true,
				ConflictsWith: []string{"bucket_prefix"},
				ValidateFunc:  validation.StringLenBetween(0, 63),
			},
			"bucket_prefix": {
				Type:          schema.TypeString,
				Optional:      true,
				ForceNew:      true,
				ConflictsWith: []string{"bucket"},
				ValidateFunc:  validation.StringLenBetween(0, 63-id.UniqueIDSuffixLength),
			},
			"force_destroy": {Type: schema.TypeBool, Optional: true, Default: false},
			// No validator: an unknown acl is refused only at apply (minioSetBucketACL).
			"acl":                {Type: schema.TypeString, Optional: true, Default: "private"},
			"arn":                {Type: schema.TypeString, Computed: true},
			"bucket_domain_name": {Type: schema.TypeString, Computed: true},
			"quota":              {Type: schema.TypeInt, Optional: true},
			// Not ForceNew: a change is planned as an update, which does nothing on the server.
			"object_locking": {Type: schema.TypeBool, Optional: true, Default: false},
		},
	}
}

// createBucket is minioCreateBucket: refused when the bucket exists, then the acl, then Update.
func createBucket(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	c := meta.(*client)
	bucket := d.Get("bucket").(string)
	if bucket == "" {
		if prefix := d.Get("bucket_prefix").(string); prefix != "" {
			bucket = id.PrefixedUniqueId(prefix)
		} else {
			bucket = id.UniqueId()
		}
	}
	region := c.region
	if region == "" {
		region = "us-east-1"
	}
	if err := s3utils.CheckValidBucketName(bucket); err != nil {
		return resourceError("unable to create bucket", bucket, err)
	}
	if exists, err := c.s3.BucketExists(ctx, bucket); err != nil {
		return resourceError("unable to check bucket", bucket, err)
	} else if exists {
		return resourceError("bucket already exists!", bucket, nil)
	}
	if err := c.s3.MakeBucket(ctx, bucket, miniogo.MakeBucketOptions{
		Region: region, ObjectLocking: d.Get("object_locking").(bool),
	}); err != nil {
		return resourceError("unable to create bucket", bucket, err)
	}
	_ = d.Set("bucket", bucket)
	d.SetId(bucket)
	if diags := setBucketACL(ctx, c, bucket, d.Get("acl").(string)); diags.HasError() {
		return diags
	}
	return updateBucket(ctx, d, meta)
}

// readBucket is minioReadBucket: any error of BucketExists reads as "gone" (minio-go v7.0.63
// api-stat.go returns false with the error, and the provider only logs it).
func readBucket(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	c := meta.(*client)
	if found, _ := c.s3.BucketExists(ctx, d.Id()); !found {
		d.SetId("")
		return nil
	}
	if _, ok := d.GetOk("bucket"); !ok {
		_ = d.Set("bucket", d.Id())
	}
	_ = d.Set("arn", awsResourcePrefix+d.Id())
	_ = d.Set("bucket_domain_name", fmt.Sprintf("%s/minio/%s", c.endpointURL(), d.Id()))
	return nil
}

// updateBucket is minioUpdateBucket: the acl and the quota, then Read. Nothing else
// (force_destroy, object_locking) reaches the server.
func updateBucket(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	c := meta.(*client)
	if d.HasChange("acl") {
		if diags := setBucketACL(ctx, c, d.Id(), d.Get("acl").(string)); diags.HasError() {
			return diags
		}
	}
	if d.HasChange("quota") {
		// madmin SetBucketQuota: the embedded endpoint has no admin API to hold a quota.
		return resourceError("[Quota] Unable to update bucket", d.Id(),
			errorf("bucket quotas need MinIO's admin API, which the embedded endpoint does not serve"))
	}
	return readBucket(ctx, d, meta)
}

// deleteBucket is minioDeleteBucket: with force_destroy a bucket that is not empty loses every
// version first.
func deleteBucket(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	c := meta.(*client)
	err := c.s3.RemoveBucket(ctx, d.Id())
	if err == nil {
		return nil
	}
	if !strings.Contains(err.Error(), "empty") || !d.Get("force_destroy").(bool) {
		return resourceError("unable to remove bucket", d.Id(), err)
	}
	objects := make(chan miniogo.ObjectInfo)
	go func() {
		defer close(objects)
		for object := range c.s3.ListObjects(ctx, d.Id(), miniogo.ListObjectsOptions{
			Recursive: true, WithVersions: true,
		}) {
			if object.Err == nil {
				objects <- object
			}
		}
	}()
	for failure := range c.s3.RemoveObjects(ctx, d.Id(), objects, miniogo.RemoveObjectsOptions{}) {
		return resourceError("unable to remove bucket", d.Id(), failure.Err)
	}
	return deleteBucket(ctx, d, meta)
}

// importBucket is resourceMinioS3BucketImportState (import_minio_s3_buckets.go): Read, then
// object_locking from the object-lock configuration and acl from the bucket policy.
func importBucket(ctx context.Context, d *schema.ResourceData, meta any) ([]*schema.ResourceData, error) {
	if diags := readBucket(ctx, d, meta); diags.HasError() || d.Id() == "" {
		return nil, fmt.Errorf("could not read minio bucket")
	}
	c := meta.(*client)
	locking, _, _, _, err := c.s3.GetObjectLockConfig(ctx, d.Id())
	_ = d.Set("object_locking", err == nil && locking == "Enabled")
	policy, err := c.s3.GetBucketPolicy(ctx, d.Id())
	if err != nil {
		return nil, fmt.Errorf("error importing Minio S3 bucket policy: %s", err)
	}
	_ = d.Set("acl", aclOfPolicy(d.Id(), policy))
	return []*schema.ResourceData{d}, nil
}

// cannedACLs are the bucket policies each acl stands for (readonly_policy.go, writeonly_policy.go,
// readwrite_policy.go, public_policy.go; the action sets are payload.go's).
func cannedACLs(bucket string) map[string]string {
	arnBucket, arnObjects := awsResourcePrefix+bucket, awsResourcePrefix+bucket+"/*"
	statement := func(sid string, actions []string, resources ...string) map[string]any {
		return map[string]any{
			"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"AWS": []string{"*"}},
			"Action": actions, "Resource": resources,
		}
	}
	document := func(statements ...map[string]any) string {
		text, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
		return string(text)
	}
	all := []string{
		"s3:AbortMultipartUpload", "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy",
		"s3:DeleteObject", "s3:GetBucketLocation", "s3:GetBucketNotification", "s3:GetBucketPolicy",
		"s3:GetObject", "s3:HeadBucket", "s3:ListAllMyBuckets", "s3:ListBucket",
		"s3:ListBucketMultipartUploads", "s3:ListMultipartUploadParts", "s3:ListenBucketNotification",
		"s3:PutBucketNotification", "s3:PutBucketPolicy", "s3:PutObject",
	}
	return map[string]string{
		"public-read": document(
			statement("ListAllBucket", []string{"s3:ListAllMyBuckets", "s3:ListBucket"}, awsResourcePrefix+"*"),
			statement("AllObjectActionsMyBuckets", []string{"s3:GetObject", "s3:ListBucket"}, arnBucket, arnObjects)),
		"public-write": document(
			statement("ListBucketAction", []string{"s3:ListBucket"}, arnBucket),
			statement("AllObjectActionsMyBuckets", []string{
				"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject",
			}, arnObjects)),
		"public-read-write": document(
			statement("ListObjectsInBucket", []string{"s3:ListBucket"}, arnBucket),
			statement("UploadObjectActions", []string{"s3:PutObject"}, arnObjects)),
		"public": document(statement("AllowAllS3Actions", all, arnBucket, arnObjects)),
	}
}

// setBucketACL is minioSetBucketACL: "private" writes nothing (a policy already there stays),
// the others write their canned policy, anything else is refused.
func setBucketACL(ctx context.Context, c *client, bucket, acl string) diag.Diagnostics {
	if acl == "private" {
		return nil
	}
	policy, ok := cannedACLs(bucket)[acl]
	if !ok {
		return resourceError("unsupported ACL", acl,
			errorf("(valid acl: private, public-write, public-read, public-read-write, public)"))
	}
	if err := c.s3.SetBucketPolicy(ctx, bucket, policy); err != nil {
		return resourceError("unable to set bucket policy", bucket, err)
	}
	return nil
}

// aclOfPolicy is policyToACLName: the canned acl the policy is equivalent to, else "private".
func aclOfPolicy(bucket, policy string) string {
	if policy == "" {
		return "private"
	}
	for name, canned := range cannedACLs(bucket) {
		if same, err := awspolicy.PoliciesAreEquivalent(canned, policy); err == nil && same {
			return name
		}
	}
	return "private"
}
