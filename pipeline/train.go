package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/scones/scones/smcontainer"
)

// TrainOptions adjust the training job. Zero values leave the algorithm's
// defaults in place.
type TrainOptions struct {
	Epochs       int
	LearningRate float64
	BatchSize    int
	// InstanceType defaults to ml.p3.2xlarge, the reference run's GPU.
	InstanceType string
	// Poll is how often the job is described while waiting (default 2 s on
	// AWS, 100 ms elsewhere).
	Poll time.Duration
}

// TrainResult describes a finished training job.
type TrainResult struct {
	JobName       string
	Status        string
	ModelArtifact string
	Metrics       map[string]float64
	Duration      time.Duration
}

// TrainingImage is the built-in image-classification image of the region,
// unless the profile overrides it.
func (e *Env) TrainingImage() (string, error) {
	if e.Profile.TrainingImage != "" {
		return e.Profile.TrainingImage, nil
	}
	uri := smcontainer.ImageClassificationURI(e.Region)
	if uri == "" {
		return "", fmt.Errorf("SageMaker has no built-in image-classification image in region %s; set training_image in scones.yaml", e.Region)
	}
	return uri, nil
}

// Train runs a SageMaker training job of the built-in image-classification
// algorithm on the staged data (train/ + train.lst, validated on test/ +
// test.lst, as the reference notebook did) and waits for it to end.
func Train(ctx context.Context, e *Env, o TrainOptions) (*TrainResult, error) {
	// The job runs as the stack's SageMaker role: create the roles (as
	// deploy does, idempotently) so that train works right after stage.
	if err := deployRoles(ctx, e, DeployOptions{}, &DeployResult{}); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return train(ctx, e, o)
}

// train runs the job; the stack's roles must exist.
func train(ctx context.Context, e *Env, o TrainOptions) (*TrainResult, error) {
	image, err := e.TrainingImage()
	if err != nil {
		return nil, err
	}
	role, err := e.roleArn(ctx, e.Profile.Names.SageMakerRole)
	if err != nil {
		return nil, err
	}
	samples, err := e.countManifest(ctx, "train.lst")
	if err != nil {
		return nil, err
	}
	hp := map[string]string{
		"image_shape":          "3,32,32",
		"num_classes":          "2",
		"num_training_samples": strconv.Itoa(samples),
	}
	if o.Epochs > 0 {
		hp["epochs"] = strconv.Itoa(o.Epochs)
	}
	if o.LearningRate > 0 {
		hp["learning_rate"] = strconv.FormatFloat(o.LearningRate, 'g', -1, 64)
	}
	if o.BatchSize > 0 {
		hp["mini_batch_size"] = strconv.Itoa(o.BatchSize)
	}
	if o.InstanceType == "" {
		o.InstanceType = "ml.p3.2xlarge"
	}
	name := fmt.Sprintf("%s-%s", e.Profile.Names.TrainingJobPrefix, time.Now().UTC().Format("20060102-150405"))
	channel := func(name, key, distribution string) smtypes.Channel {
		return smtypes.Channel{
			ChannelName: aws.String(name),
			ContentType: aws.String("application/x-image"),
			DataSource: &smtypes.DataSource{S3DataSource: &smtypes.S3DataSource{
				S3DataType:             smtypes.S3DataTypeS3Prefix,
				S3Uri:                  aws.String(e.s3URI(key)),
				S3DataDistributionType: smtypes.S3DataDistributionFullyReplicated,
			}},
		}
	}
	_, err = e.Clients.SageMaker.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		AlgorithmSpecification: &smtypes.AlgorithmSpecification{
			TrainingImage:     aws.String(image),
			TrainingInputMode: smtypes.TrainingInputModeFile,
		},
		RoleArn:         aws.String(role),
		HyperParameters: hp,
		InputDataConfig: []smtypes.Channel{
			channel("train", "train/", ""),
			channel("validation", "test/", ""),
			channel("train_lst", "train.lst", ""),
			channel("validation_lst", "test.lst", ""),
		},
		OutputDataConfig: &smtypes.OutputDataConfig{S3OutputPath: aws.String(e.s3URI(e.Profile.Names.TrainingOutputPrefix))},
		ResourceConfig: &smtypes.ResourceConfig{
			InstanceType:   smtypes.TrainingInstanceType(o.InstanceType),
			InstanceCount:  aws.Int32(1),
			VolumeSizeInGB: aws.Int32(5),
		},
		StoppingCondition: &smtypes.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
		Tags:              smTags(e.Tags()),
	})
	if err != nil {
		return nil, fmt.Errorf("CreateTrainingJob: %w", err)
	}
	e.printf("training job %s started (%s)\n", name, image)
	return e.waitTraining(ctx, name, o.Poll)
}

func (e *Env) poll(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if e.Profile.Poll > 0 {
		return e.Profile.Poll
	}
	return 20 * time.Millisecond
}

func (e *Env) waitTraining(ctx context.Context, name string, poll time.Duration) (*TrainResult, error) {
	start := time.Now()
	last := ""
	for {
		out, err := e.Clients.SageMaker.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("DescribeTrainingJob %s: %w", name, err)
		}
		status := fmt.Sprintf("%s/%s", out.TrainingJobStatus, out.SecondaryStatus)
		if status != last {
			e.printf("  %-10s %s\n", out.TrainingJobStatus, out.SecondaryStatus)
			last = status
		}
		switch out.TrainingJobStatus {
		case smtypes.TrainingJobStatusCompleted:
			res := &TrainResult{JobName: name, Status: string(out.TrainingJobStatus), Metrics: map[string]float64{}, Duration: time.Since(start)}
			if out.ModelArtifacts != nil {
				res.ModelArtifact = aws.ToString(out.ModelArtifacts.S3ModelArtifacts)
			}
			for _, m := range out.FinalMetricDataList {
				res.Metrics[aws.ToString(m.MetricName)] = float64(aws.ToFloat32(m.Value))
			}
			return res, nil
		case smtypes.TrainingJobStatusFailed, smtypes.TrainingJobStatusStopped:
			return nil, fmt.Errorf("training job %s %s: %s", name, out.TrainingJobStatus, aws.ToString(out.FailureReason))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(e.poll(poll)):
		}
	}
}

// countManifest counts the entries of a staged .lst manifest.
func (e *Env) countManifest(ctx context.Context, key string) (int, error) {
	entries, err := e.ReadManifest(ctx, key)
	return len(entries), err
}

// LatestModelArtifact returns the newest completed training job of the
// stack and its model artifact, or "" when there is none.
func (e *Env) LatestModelArtifact(ctx context.Context) (job, artifact string, err error) {
	out, err := e.Clients.SageMaker.ListTrainingJobs(ctx, &sagemaker.ListTrainingJobsInput{
		NameContains: aws.String(e.Profile.Names.TrainingJobPrefix),
		StatusEquals: smtypes.TrainingJobStatusCompleted,
		SortBy:       smtypes.SortByCreationTime,
		SortOrder:    smtypes.SortOrderDescending,
		MaxResults:   aws.Int32(1),
	})
	if err != nil {
		return "", "", fmt.Errorf("ListTrainingJobs: %w", err)
	}
	if len(out.TrainingJobSummaries) == 0 {
		return "", "", nil
	}
	name := aws.ToString(out.TrainingJobSummaries[0].TrainingJobName)
	d, err := e.Clients.SageMaker.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("DescribeTrainingJob %s: %w", name, err)
	}
	if d.ModelArtifacts == nil {
		return name, "", nil
	}
	return name, aws.ToString(d.ModelArtifacts.S3ModelArtifacts), nil
}

func smTags(m map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for k, v := range m {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}
