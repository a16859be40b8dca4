package pipeline

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// DestroyOptions adjust destroy.
type DestroyOptions struct {
	// KeepBucket leaves the bucket and its data (staged images, models,
	// captures) in place even when deploy created it.
	KeepBucket bool
	// DryRun lists what would be removed without removing it.
	DryRun bool
}

// Found is a resource carrying the stack's tag.
type Found struct {
	Kind, Name string
	remove     func(context.Context) error
}

// FindTagged lists every resource of the stack, found by its tag, in the
// order destroy removes them (dependents first).
func FindTagged(ctx context.Context, e *Env) ([]Found, error) {
	stack := e.Profile.Names.Stack
	var found []Found
	add := func(kind, name string, rm func(context.Context) error) {
		found = append(found, Found{Kind: kind, Name: name, remove: rm})
	}

	// State machines.
	smp := sfn.NewListStateMachinesPaginator(e.Clients.SFN, &sfn.ListStateMachinesInput{})
	for smp.HasMorePages() {
		page, err := smp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListStateMachines: %w", err)
		}
		for _, sm := range page.StateMachines {
			tags, err := e.Clients.SFN.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: sm.StateMachineArn})
			if err != nil {
				return nil, fmt.Errorf("ListTagsForResource %s: %w", aws.ToString(sm.Name), err)
			}
			for _, t := range tags.Tags {
				if aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == stack {
					arn := sm.StateMachineArn
					add("state machine", aws.ToString(sm.Name), func(ctx context.Context) error {
						_, err := e.Clients.SFN.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: arn})
						return err
					})
				}
			}
		}
	}

	// SageMaker endpoints, endpoint configs, models.
	smTagged := func(arn *string) (bool, error) {
		out, err := e.Clients.SageMaker.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: arn})
		if err != nil {
			return false, fmt.Errorf("ListTags %s: %w", aws.ToString(arn), err)
		}
		for _, t := range out.Tags {
			if aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == stack {
				return true, nil
			}
		}
		return false, nil
	}
	eps := sagemaker.NewListEndpointsPaginator(e.Clients.SageMaker, &sagemaker.ListEndpointsInput{})
	for eps.HasMorePages() {
		page, err := eps.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListEndpoints: %w", err)
		}
		for _, ep := range page.Endpoints {
			ok, err := smTagged(ep.EndpointArn)
			if err != nil {
				return nil, err
			}
			if ok {
				name := ep.EndpointName
				add("endpoint", aws.ToString(name), func(ctx context.Context) error {
					_, err := e.Clients.SageMaker.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: name})
					return err
				})
			}
		}
	}
	ecs := sagemaker.NewListEndpointConfigsPaginator(e.Clients.SageMaker, &sagemaker.ListEndpointConfigsInput{})
	for ecs.HasMorePages() {
		page, err := ecs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListEndpointConfigs: %w", err)
		}
		for _, ec := range page.EndpointConfigs {
			ok, err := smTagged(ec.EndpointConfigArn)
			if err != nil {
				return nil, err
			}
			if ok {
				name := ec.EndpointConfigName
				add("endpoint config", aws.ToString(name), func(ctx context.Context) error {
					_, err := e.Clients.SageMaker.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: name})
					return err
				})
			}
		}
	}
	models := sagemaker.NewListModelsPaginator(e.Clients.SageMaker, &sagemaker.ListModelsInput{})
	for models.HasMorePages() {
		page, err := models.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListModels: %w", err)
		}
		for _, m := range page.Models {
			ok, err := smTagged(m.ModelArn)
			if err != nil {
				return nil, err
			}
			if ok {
				name := m.ModelName
				add("model", aws.ToString(name), func(ctx context.Context) error {
					_, err := e.Clients.SageMaker.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: name})
					return err
				})
			}
		}
	}

	// Lambda functions.
	fns := lambda.NewListFunctionsPaginator(e.Clients.Lambda, &lambda.ListFunctionsInput{})
	for fns.HasMorePages() {
		page, err := fns.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListFunctions: %w", err)
		}
		for _, f := range page.Functions {
			tags, err := e.Clients.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: f.FunctionArn})
			if err != nil {
				return nil, fmt.Errorf("ListTags %s: %w", aws.ToString(f.FunctionName), err)
			}
			if tags.Tags[TagKey] == stack {
				name := f.FunctionName
				add("function", aws.ToString(name), func(ctx context.Context) error {
					_, err := e.Clients.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: name})
					return err
				})
			}
		}
	}

	// IAM roles, with their policies.
	roles := iam.NewListRolesPaginator(e.Clients.IAM, &iam.ListRolesInput{})
	for roles.HasMorePages() {
		page, err := roles.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListRoles: %w", err)
		}
		for _, r := range page.Roles {
			tags, err := e.Clients.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: r.RoleName})
			if err != nil {
				return nil, fmt.Errorf("ListRoleTags %s: %w", aws.ToString(r.RoleName), err)
			}
			for _, t := range tags.Tags {
				if aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == stack {
					name := r.RoleName
					add("role", aws.ToString(name), func(ctx context.Context) error { return e.deleteRole(ctx, name) })
				}
			}
		}
	}
	return found, nil
}

func (e *Env) deleteRole(ctx context.Context, name *string) error {
	pols, err := e.Clients.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil {
		return err
	}
	for _, p := range pols.PolicyNames {
		if _, err := e.Clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(p)}); err != nil {
			return err
		}
	}
	att, err := e.Clients.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	if err != nil {
		return err
	}
	for _, p := range att.AttachedPolicies {
		if _, err := e.Clients.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: p.PolicyArn}); err != nil {
			return err
		}
	}
	_, err = e.Clients.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	return err
}

// bucketTagged reports whether the profile's bucket carries the stack tag.
func (e *Env) bucketTagged(ctx context.Context) bool {
	out, err := e.Clients.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(e.Bucket)})
	if err != nil {
		return false
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == e.Profile.Names.Stack {
			return true
		}
	}
	return false
}

// Destroy removes every resource of the stack (found by tag) and, unless
// kept, the bucket deploy created with everything in it.
func Destroy(ctx context.Context, e *Env, o DestroyOptions) ([]Found, error) {
	found, err := FindTagged(ctx, e)
	if err != nil {
		return nil, err
	}
	if !o.KeepBucket && e.bucketTagged(ctx) {
		found = append(found, Found{Kind: "bucket", Name: e.Bucket, remove: e.deleteBucket})
	}
	if o.DryRun {
		return found, nil
	}
	for _, f := range found {
		if err := f.remove(ctx); err != nil {
			return found, fmt.Errorf("removing %s %s: %w", f.Kind, f.Name, err)
		}
		e.printf("removed %-15s %s\n", f.Kind, f.Name)
	}
	return found, nil
}

func (e *Env) deleteBucket(ctx context.Context) error {
	p := s3.NewListObjectsV2Paginator(e.Clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(e.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		out, err := e.Clients.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(e.Bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("deleting %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
	}
	_, err := e.Clients.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(e.Bucket)})
	return err
}
