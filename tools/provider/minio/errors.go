package minio

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
)

// resourceError is v1.20.1's NewResourceError (error.go): "[FATAL] <msg> (<resource>): <err>",
// the text a user sees when an operation fails.
func resourceError(msg, resource string, err error) diag.Diagnostics {
	if err == nil {
		return diag.Errorf("[FATAL] %s (%s)", msg, resource)
	}
	return diag.Errorf("[FATAL] %s (%s): %s", msg, resource, err)
}

// errorf is a plain error with v1.20.1's wording.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
