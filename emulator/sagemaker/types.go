package sagemaker

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/scones/scones/emulator/sagemaker/capture"
)

// Timestamp is an awsJson timestamp: epoch seconds as a number (with
// milliseconds as a fraction).
type Timestamp time.Time

// Ts converts a time.
func Ts(t time.Time) *Timestamp { ts := Timestamp(t); return &ts }

// Time returns the time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds or an ISO 8601 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		tt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		*t = Timestamp(tt)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	sec, frac := math.Modf(f)
	*t = Timestamp(time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)))
	return nil
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// MetricDefinition names a metric and the regex that finds it in the log.
type MetricDefinition struct {
	Name  string `json:"Name"`
	Regex string `json:"Regex"`
}

// AlgorithmSpecification is the training image and its metrics.
type AlgorithmSpecification struct {
	TrainingImage                    string             `json:"TrainingImage,omitempty"`
	AlgorithmName                    string             `json:"AlgorithmName,omitempty"`
	TrainingInputMode                string             `json:"TrainingInputMode,omitempty"`
	MetricDefinitions                []MetricDefinition `json:"MetricDefinitions,omitempty"`
	EnableSageMakerMetricsTimeSeries *bool              `json:"EnableSageMakerMetricsTimeSeries,omitempty"`
	ContainerEntrypoint              []string           `json:"ContainerEntrypoint,omitempty"`
	ContainerArguments               []string           `json:"ContainerArguments,omitempty"`
	TrainingImageConfig              json.RawMessage    `json:"TrainingImageConfig,omitempty"`
}

// S3DataSource locates a channel's data.
type S3DataSource struct {
	S3DataType             string          `json:"S3DataType,omitempty"`
	S3Uri                  string          `json:"S3Uri,omitempty"`
	S3DataDistributionType string          `json:"S3DataDistributionType,omitempty"`
	AttributeNames         []string        `json:"AttributeNames,omitempty"`
	InstanceGroupNames     []string        `json:"InstanceGroupNames,omitempty"`
	ModelAccessConfig      json.RawMessage `json:"ModelAccessConfig,omitempty"`
	HubAccessConfig        json.RawMessage `json:"HubAccessConfig,omitempty"`
}

// DataSource holds a channel's source (only S3 is supported).
type DataSource struct {
	S3DataSource         *S3DataSource   `json:"S3DataSource,omitempty"`
	FileSystemDataSource json.RawMessage `json:"FileSystemDataSource,omitempty"`
	DatasetSource        json.RawMessage `json:"DatasetSource,omitempty"`
}

// Channel is one training input channel.
type Channel struct {
	ChannelName       string          `json:"ChannelName,omitempty"`
	DataSource        *DataSource     `json:"DataSource,omitempty"`
	ContentType       string          `json:"ContentType,omitempty"`
	CompressionType   string          `json:"CompressionType,omitempty"`
	RecordWrapperType string          `json:"RecordWrapperType,omitempty"`
	InputMode         string          `json:"InputMode,omitempty"`
	ShuffleConfig     json.RawMessage `json:"ShuffleConfig,omitempty"`
}

// OutputDataConfig says where model artifacts go.
type OutputDataConfig struct {
	KmsKeyId        string `json:"KmsKeyId,omitempty"`
	S3OutputPath    string `json:"S3OutputPath,omitempty"`
	CompressionType string `json:"CompressionType,omitempty"`
}

// ResourceConfig is the training cluster (one local instance here).
type ResourceConfig struct {
	InstanceType             string          `json:"InstanceType,omitempty"`
	InstanceCount            *int            `json:"InstanceCount,omitempty"`
	VolumeSizeInGB           *int            `json:"VolumeSizeInGB,omitempty"`
	VolumeKmsKeyId           string          `json:"VolumeKmsKeyId,omitempty"`
	KeepAlivePeriodInSeconds *int            `json:"KeepAlivePeriodInSeconds,omitempty"`
	InstanceGroups           json.RawMessage `json:"InstanceGroups,omitempty"`
	TrainingPlanArn          string          `json:"TrainingPlanArn,omitempty"`
	InstancePlacementConfig  json.RawMessage `json:"InstancePlacementConfig,omitempty"`
}

// StoppingCondition bounds the training time.
type StoppingCondition struct {
	MaxRuntimeInSeconds     *int `json:"MaxRuntimeInSeconds,omitempty"`
	MaxWaitTimeInSeconds    *int `json:"MaxWaitTimeInSeconds,omitempty"`
	MaxPendingTimeInSeconds *int `json:"MaxPendingTimeInSeconds,omitempty"`
}

// ModelArtifacts is where the trained model went.
type ModelArtifacts struct {
	S3ModelArtifacts string `json:"S3ModelArtifacts"`
}

// SecondaryStatusTransition is one step of a training job's progress.
type SecondaryStatusTransition struct {
	Status        string     `json:"Status"`
	StartTime     *Timestamp `json:"StartTime"`
	EndTime       *Timestamp `json:"EndTime,omitempty"`
	StatusMessage string     `json:"StatusMessage,omitempty"`
}

// MetricData is a final metric value.
type MetricData struct {
	MetricName string     `json:"MetricName"`
	Value      float64    `json:"Value"`
	Timestamp  *Timestamp `json:"Timestamp"`
}

// TrainingJob is CreateTrainingJob's input and DescribeTrainingJob's
// output; it is also what the store holds.
type TrainingJob struct {
	TrainingJobName                       string                      `json:"TrainingJobName"`
	TrainingJobArn                        string                      `json:"TrainingJobArn,omitempty"`
	ModelArtifacts                        *ModelArtifacts             `json:"ModelArtifacts,omitempty"`
	TrainingJobStatus                     string                      `json:"TrainingJobStatus,omitempty"`
	SecondaryStatus                       string                      `json:"SecondaryStatus,omitempty"`
	FailureReason                         string                      `json:"FailureReason,omitempty"`
	HyperParameters                       map[string]string           `json:"HyperParameters,omitempty"`
	AlgorithmSpecification                *AlgorithmSpecification     `json:"AlgorithmSpecification,omitempty"`
	RoleArn                               string                      `json:"RoleArn,omitempty"`
	InputDataConfig                       []Channel                   `json:"InputDataConfig,omitempty"`
	OutputDataConfig                      *OutputDataConfig           `json:"OutputDataConfig,omitempty"`
	ResourceConfig                        *ResourceConfig             `json:"ResourceConfig,omitempty"`
	VpcConfig                             json.RawMessage             `json:"VpcConfig,omitempty"`
	StoppingCondition                     *StoppingCondition          `json:"StoppingCondition,omitempty"`
	CreationTime                          *Timestamp                  `json:"CreationTime,omitempty"`
	TrainingStartTime                     *Timestamp                  `json:"TrainingStartTime,omitempty"`
	TrainingEndTime                       *Timestamp                  `json:"TrainingEndTime,omitempty"`
	LastModifiedTime                      *Timestamp                  `json:"LastModifiedTime,omitempty"`
	SecondaryStatusTransitions            []SecondaryStatusTransition `json:"SecondaryStatusTransitions,omitempty"`
	FinalMetricDataList                   []MetricData                `json:"FinalMetricDataList,omitempty"`
	EnableNetworkIsolation                *bool                       `json:"EnableNetworkIsolation,omitempty"`
	EnableInterContainerTrafficEncryption *bool                       `json:"EnableInterContainerTrafficEncryption,omitempty"`
	EnableManagedSpotTraining             *bool                       `json:"EnableManagedSpotTraining,omitempty"`
	CheckpointConfig                      json.RawMessage             `json:"CheckpointConfig,omitempty"`
	TrainingTimeInSeconds                 *int                        `json:"TrainingTimeInSeconds,omitempty"`
	BillableTimeInSeconds                 *int                        `json:"BillableTimeInSeconds,omitempty"`
	DebugHookConfig                       json.RawMessage             `json:"DebugHookConfig,omitempty"`
	ExperimentConfig                      json.RawMessage             `json:"ExperimentConfig,omitempty"`
	TensorBoardOutputConfig               json.RawMessage             `json:"TensorBoardOutputConfig,omitempty"`
	ProfilerConfig                        json.RawMessage             `json:"ProfilerConfig,omitempty"`
	Environment                           map[string]string           `json:"Environment,omitempty"`
	RetryStrategy                         json.RawMessage             `json:"RetryStrategy,omitempty"`
	// Tags are taken on create and kept in the tag table.
	Tags []Tag `json:"Tags,omitempty"`
}

// TrainingJobSummary is one ListTrainingJobs entry.
type TrainingJobSummary struct {
	TrainingJobName   string     `json:"TrainingJobName"`
	TrainingJobArn    string     `json:"TrainingJobArn"`
	CreationTime      *Timestamp `json:"CreationTime"`
	TrainingEndTime   *Timestamp `json:"TrainingEndTime,omitempty"`
	LastModifiedTime  *Timestamp `json:"LastModifiedTime,omitempty"`
	TrainingJobStatus string     `json:"TrainingJobStatus"`
	SecondaryStatus   string     `json:"SecondaryStatus,omitempty"`
}

// ContainerDefinition is a model's container.
type ContainerDefinition struct {
	ContainerHostname string            `json:"ContainerHostname,omitempty"`
	Image             string            `json:"Image,omitempty"`
	ImageConfig       json.RawMessage   `json:"ImageConfig,omitempty"`
	Mode              string            `json:"Mode,omitempty"`
	ModelDataUrl      string            `json:"ModelDataUrl,omitempty"`
	ModelDataSource   *ModelDataSource  `json:"ModelDataSource,omitempty"`
	Environment       map[string]string `json:"Environment,omitempty"`
	ModelPackageName  string            `json:"ModelPackageName,omitempty"`
	MultiModelConfig  json.RawMessage   `json:"MultiModelConfig,omitempty"`
}

// ModelDataSource is uncompressed or compressed model data in S3.
type ModelDataSource struct {
	S3DataSource *S3ModelDataSource `json:"S3DataSource,omitempty"`
}

// S3ModelDataSource locates model data.
type S3ModelDataSource struct {
	S3Uri             string          `json:"S3Uri"`
	S3DataType        string          `json:"S3DataType"`
	CompressionType   string          `json:"CompressionType"`
	ModelAccessConfig json.RawMessage `json:"ModelAccessConfig,omitempty"`
}

// Model is CreateModel's input and DescribeModel's output.
type Model struct {
	ModelName                string                `json:"ModelName"`
	ModelArn                 string                `json:"ModelArn,omitempty"`
	PrimaryContainer         *ContainerDefinition  `json:"PrimaryContainer,omitempty"`
	Containers               []ContainerDefinition `json:"Containers,omitempty"`
	InferenceExecutionConfig json.RawMessage       `json:"InferenceExecutionConfig,omitempty"`
	ExecutionRoleArn         string                `json:"ExecutionRoleArn,omitempty"`
	VpcConfig                json.RawMessage       `json:"VpcConfig,omitempty"`
	CreationTime             *Timestamp            `json:"CreationTime,omitempty"`
	EnableNetworkIsolation   *bool                 `json:"EnableNetworkIsolation,omitempty"`
	Tags                     []Tag                 `json:"Tags,omitempty"`
}

// container is the model's serving container.
func (m *Model) container() *ContainerDefinition {
	if m.PrimaryContainer != nil {
		return m.PrimaryContainer
	}
	if len(m.Containers) > 0 {
		return &m.Containers[0]
	}
	return nil
}

// ProductionVariant is one variant of an endpoint config.
type ProductionVariant struct {
	VariantName                                 string          `json:"VariantName"`
	ModelName                                   string          `json:"ModelName,omitempty"`
	InitialInstanceCount                        *int            `json:"InitialInstanceCount,omitempty"`
	InstanceType                                string          `json:"InstanceType,omitempty"`
	InitialVariantWeight                        *float64        `json:"InitialVariantWeight,omitempty"`
	AcceleratorType                             string          `json:"AcceleratorType,omitempty"`
	CoreDumpConfig                              json.RawMessage `json:"CoreDumpConfig,omitempty"`
	ServerlessConfig                            json.RawMessage `json:"ServerlessConfig,omitempty"`
	VolumeSizeInGB                              *int            `json:"VolumeSizeInGB,omitempty"`
	ModelDataDownloadTimeoutInSeconds           *int            `json:"ModelDataDownloadTimeoutInSeconds,omitempty"`
	ContainerStartupHealthCheckTimeoutInSeconds *int            `json:"ContainerStartupHealthCheckTimeoutInSeconds,omitempty"`
	EnableSSMAccess                             *bool           `json:"EnableSSMAccess,omitempty"`
	ManagedInstanceScaling                      json.RawMessage `json:"ManagedInstanceScaling,omitempty"`
	RoutingConfig                               json.RawMessage `json:"RoutingConfig,omitempty"`
	InferenceAmiVersion                         string          `json:"InferenceAmiVersion,omitempty"`
}

func (v *ProductionVariant) weight() float64 {
	if v.InitialVariantWeight == nil {
		return 1
	}
	return *v.InitialVariantWeight
}

// EndpointConfig is CreateEndpointConfig's input and
// DescribeEndpointConfig's output.
type EndpointConfig struct {
	EndpointConfigName       string                     `json:"EndpointConfigName"`
	EndpointConfigArn        string                     `json:"EndpointConfigArn,omitempty"`
	ProductionVariants       []ProductionVariant        `json:"ProductionVariants"`
	DataCaptureConfig        *capture.DataCaptureConfig `json:"DataCaptureConfig,omitempty"`
	KmsKeyId                 string                     `json:"KmsKeyId,omitempty"`
	CreationTime             *Timestamp                 `json:"CreationTime,omitempty"`
	AsyncInferenceConfig     json.RawMessage            `json:"AsyncInferenceConfig,omitempty"`
	ExplainerConfig          json.RawMessage            `json:"ExplainerConfig,omitempty"`
	ShadowProductionVariants json.RawMessage            `json:"ShadowProductionVariants,omitempty"`
	ExecutionRoleArn         string                     `json:"ExecutionRoleArn,omitempty"`
	VpcConfig                json.RawMessage            `json:"VpcConfig,omitempty"`
	EnableNetworkIsolation   *bool                      `json:"EnableNetworkIsolation,omitempty"`
	Tags                     []Tag                      `json:"Tags,omitempty"`
}

// DeployedImage is the image a variant runs.
type DeployedImage struct {
	SpecifiedImage string     `json:"SpecifiedImage,omitempty"`
	ResolvedImage  string     `json:"ResolvedImage,omitempty"`
	ResolutionTime *Timestamp `json:"ResolutionTime,omitempty"`
}

// ProductionVariantStatus is a variant's transient status.
type ProductionVariantStatus struct {
	Status        string     `json:"Status"`
	StatusMessage string     `json:"StatusMessage,omitempty"`
	StartTime     *Timestamp `json:"StartTime,omitempty"`
}

// ProductionVariantSummary describes a deployed variant.
type ProductionVariantSummary struct {
	VariantName          string                    `json:"VariantName"`
	DeployedImages       []DeployedImage           `json:"DeployedImages,omitempty"`
	CurrentWeight        *float64                  `json:"CurrentWeight,omitempty"`
	DesiredWeight        *float64                  `json:"DesiredWeight,omitempty"`
	CurrentInstanceCount *int                      `json:"CurrentInstanceCount,omitempty"`
	DesiredInstanceCount *int                      `json:"DesiredInstanceCount,omitempty"`
	VariantStatus        []ProductionVariantStatus `json:"VariantStatus,omitempty"`
}

// DataCaptureConfigSummary is an endpoint's capture state.
type DataCaptureConfigSummary struct {
	EnableCapture             bool   `json:"EnableCapture"`
	CaptureStatus             string `json:"CaptureStatus"`
	CurrentSamplingPercentage int    `json:"CurrentSamplingPercentage"`
	DestinationS3Uri          string `json:"DestinationS3Uri"`
	KmsKeyId                  string `json:"KmsKeyId"`
}

// Endpoint is DescribeEndpoint's output and the stored endpoint.
type Endpoint struct {
	EndpointName       string                     `json:"EndpointName"`
	EndpointArn        string                     `json:"EndpointArn"`
	EndpointConfigName string                     `json:"EndpointConfigName,omitempty"`
	ProductionVariants []ProductionVariantSummary `json:"ProductionVariants,omitempty"`
	DataCaptureConfig  *DataCaptureConfigSummary  `json:"DataCaptureConfig,omitempty"`
	EndpointStatus     string                     `json:"EndpointStatus"`
	FailureReason      string                     `json:"FailureReason,omitempty"`
	CreationTime       *Timestamp                 `json:"CreationTime"`
	LastModifiedTime   *Timestamp                 `json:"LastModifiedTime"`
}
