package profile

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Clients are the SDK clients the pipeline uses. They are built only here.
type Clients struct {
	Config    aws.Config
	S3        *s3.Client
	Lambda    *lambda.Client
	SFN       *sfn.Client
	SageMaker *sagemaker.Client
	Runtime   *sagemakerruntime.Client
	IAM       *iam.Client
	STS       *sts.Client
}

// Clients builds the SDK clients for the profile. For local and localstack
// every client gets an explicit endpoint and static test credentials; a
// missing endpoint is an error rather than a silent fall-back to AWS.
func (p *Profile) Clients(ctx context.Context) (*Clients, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(p.Region)}
	if p.Name == AWS {
		if p.AWSProfile != "" {
			opts = append(opts, config.WithSharedConfigProfile(p.AWSProfile))
		}
	} else {
		for _, k := range serviceKeys {
			if p.Endpoints[k] == "" {
				return nil, fmt.Errorf("profile %s has no endpoint for %s: set it in scones.yaml (profiles.%s.endpoints.%s) or pass --endpoint", p.Name, k, p.Name, k)
			}
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	// Endpoints that do not answer should fail fast with a clear error, not
	// after minutes of retries.
	httpClient := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConns: 256, MaxIdleConnsPerHost: 256,
		IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 5 * time.Minute,
	}}
	ep := func(k string) *string {
		if v := p.Endpoints[k]; v != "" {
			return aws.String(v)
		}
		return nil
	}
	local := p.Name != AWS
	// An endpoint set through the SDK's own variables (AWS_ENDPOINT_URL,
	// AWS_ENDPOINT_URL_S3) is not AWS: bucket names would not resolve as
	// host names there, so S3 goes path style, as the Lambdas do.
	pathStyle := local || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	c := &Clients{Config: cfg}
	c.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if e := ep(S3); e != nil {
			o.BaseEndpoint = e
		}
		o.UsePathStyle = pathStyle
		o.DisableLogOutputChecksumValidationSkipped = true
		if local {
			o.HTTPClient = httpClient
		}
	})
	c.Lambda = lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if e := ep(Lambda); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
		}
	})
	c.SFN = sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		if e := ep(StepFunctions); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
			// StartSyncExecution prefixes the host with "sync-", which an
			// IP address or localhost endpoint cannot take.
			o.APIOptions = append(o.APIOptions, DisableHostPrefix)
		}
	})
	c.SageMaker = sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) {
		if e := ep(SageMaker); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
		}
	})
	c.Runtime = sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) {
		if e := ep(SageMakerRuntime); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
		}
	})
	c.IAM = iam.NewFromConfig(cfg, func(o *iam.Options) {
		if e := ep(IAM); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
		}
	})
	c.STS = sts.NewFromConfig(cfg, func(o *sts.Options) {
		if e := ep(STS); e != nil {
			o.BaseEndpoint = e
		}
		if local {
			o.HTTPClient = httpClient
		}
	})
	return c, nil
}

// Account asks STS who the credentials belong to.
func (c *Clients) Account(ctx context.Context) (account, arn string, err error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), nil
}

// DisableHostPrefix keeps an SDK client from prefixing the endpoint's host
// (Step Functions' StartSyncExecution goes to sync-<host>), for endpoints
// such as http://127.0.0.1:4566 where a prefixed name does not resolve.
func DisableHostPrefix(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("sconesDisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}
