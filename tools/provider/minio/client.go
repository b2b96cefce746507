package minio

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscredentials "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// client is the configured provider: what v1.20.1 calls S3MinioClient (payload.go), with an
// admin that speaks the endpoint's IAM API where v1.20.1's speaks MinIO's admin API.
type client struct {
	region string
	s3     *miniogo.Client
	admin  *admin
}

type clientConfig struct {
	server, region, user, password, sessionToken, apiSignature string
	ssl, insecure                                              bool
	caCertFile, certFile, keyFile                              string
}

// newClient follows new_client.go NewClient: one transport for the S3 and admin clients, the
// signature version from minio_api_version.
func newClient(config clientConfig) (*client, error) {
	transport, err := config.transport()
	if err != nil {
		return nil, err
	}
	var creds *credentials.Credentials
	switch config.apiSignature {
	case "v2":
		creds = credentials.NewStaticV2(config.user, config.password, config.sessionToken)
	case "v4":
		creds = credentials.NewStaticV4(config.user, config.password, config.sessionToken)
	default:
		return nil, fmt.Errorf("unknown S3 API signature: %s, must be v2 or v4", config.apiSignature)
	}
	s3, err := miniogo.New(config.server, &miniogo.Options{
		Creds: creds, Secure: config.ssl, Transport: transport,
	})
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if config.ssl {
		scheme = "https"
	}
	iamClient := iam.New(iam.Options{
		BaseEndpoint: aws.String((&url.URL{Scheme: scheme, Host: config.server}).String()),
		Region:       config.region,
		Credentials: awscredentials.NewStaticCredentialsProvider(
			config.user, config.password, config.sessionToken),
		HTTPClient: &http.Client{Transport: transport},
	})
	return &client{region: config.region, s3: s3, admin: &admin{iam: iamClient}}, nil
}

// transport is new_client.go customTransport: with minio_cacert_file the CA is ADDED to the
// system's roots (the system's CAs stay trusted), minio_insecure skips verification.
func (config clientConfig) transport() (*http.Transport, error) {
	transport, err := miniogo.DefaultTransport(config.ssl)
	if err != nil || !config.ssl {
		return transport, err
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if config.caCertFile != "" {
		pemBytes, err := os.ReadFile(config.caCertFile)
		if err != nil {
			return nil, err
		}
		if block, _ := pem.Decode(pemBytes); block == nil {
			return nil, fmt.Errorf("minio CA Cert is not a valid x509 certificate")
		} else if _, err := x509.ParseCertificates(block.Bytes); err != nil {
			return nil, fmt.Errorf("minio CA Cert is not a valid x509 certificate")
		}
		roots, _ := x509.SystemCertPool()
		if roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM(pemBytes)
		tlsConfig.RootCAs = roots
	}
	if config.certFile != "" && config.keyFile != "" {
		pair, err := tls.LoadX509KeyPair(config.certFile, config.keyFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	tlsConfig.InsecureSkipVerify = config.insecure
	transport.TLSClientConfig = tlsConfig
	return transport, nil
}

// endpointURL is what minio-go's EndpointURL() gives, for bucket_domain_name.
func (c *client) endpointURL() *url.URL { return c.s3.EndpointURL() }
