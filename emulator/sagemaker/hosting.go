package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scones/scones/emulator/sagemaker/capture"
	"github.com/scones/scones/emulator/sagemaker/serving"
	"github.com/scones/scones/emulator/store"
	"github.com/scones/scones/smcontainer"
)

// --- models ---

func (s *Service) createModel(_ context.Context, body []byte) (any, error) {
	var in Model
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validName("modelName", in.ModelName); err != nil {
		return nil, err
	}
	c := in.container()
	if c == nil {
		return nil, validation("Either PrimaryContainer or Containers must be specified for model %s.", in.ModelName)
	}
	if c.Image == "" && c.ModelPackageName == "" {
		return nil, nullErr("primaryContainer.image")
	}
	if c.ModelDataUrl != "" {
		if _, _, err := capture.ParseS3URI(c.ModelDataUrl); err != nil {
			return nil, validation("1 validation error detected: Value '%s' at 'primaryContainer.modelDataUrl' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$", c.ModelDataUrl)
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	m := in
	m.Tags = nil
	m.ModelArn = s.arn("model", in.ModelName)
	m.CreationTime = Ts(s.env.Now())
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableModels, m.ModelName); ok {
			return validation("Cannot create already existing model \"%s\".", m.ModelArn)
		}
		if err := putJSON(tx, tableModels, m.ModelName, &m); err != nil {
			return err
		}
		return mergeTags(tx, m.ModelArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"ModelArn": m.ModelArn}, nil
}

func (s *Service) describeModel(_ context.Context, body []byte) (any, error) {
	var in struct{ ModelName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ModelName == "" {
		return nil, nullErr("modelName")
	}
	m, err := getJSON[Model](s.env.Store, tableModels, in.ModelName)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, validation("Could not find model \"%s\".", s.arn("model", in.ModelName))
	}
	return m, nil
}

func (s *Service) deleteModel(_ context.Context, body []byte) (any, error) {
	var in struct{ ModelName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ModelName == "" {
		return nil, nullErr("modelName")
	}
	arn := s.arn("model", in.ModelName)
	return nil, s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableModels, in.ModelName); !ok {
			return validation("Could not find model \"%s\".", arn)
		}
		tx.Delete(tableTags, arn)
		return tx.Delete(tableModels, in.ModelName)
	})
}

func (s *Service) listModels(_ context.Context, body []byte) (any, error) {
	var p listParams
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	ms, err := listJSON[Model](s.env.Store, tableModels)
	if err != nil {
		return nil, err
	}
	items := make([]listItem, len(ms))
	for i, m := range ms {
		items[i] = listItem{name: m.ModelName, created: m.CreationTime.Time(), modified: m.CreationTime.Time(),
			value: map[string]any{"ModelName": m.ModelName, "ModelArn": m.ModelArn, "CreationTime": m.CreationTime}}
	}
	page, next, err := p.list(items)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Models": page, "NextToken": omitEmpty(next)}, nil
}

// --- endpoint configs ---

func (s *Service) createEndpointConfig(_ context.Context, body []byte) (any, error) {
	var in EndpointConfig
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validName("endpointConfigName", in.EndpointConfigName); err != nil {
		return nil, err
	}
	if len(in.ProductionVariants) == 0 || len(in.ProductionVariants) > 10 {
		return nil, validation("1 validation error detected: Value at 'productionVariants' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	seen := map[string]bool{}
	for i, v := range in.ProductionVariants {
		field := fmt.Sprintf("productionVariants.%d.member", i+1)
		if err := validName(field+".variantName", v.VariantName); err != nil {
			return nil, err
		}
		if seen[v.VariantName] {
			return nil, validation("Variant names must be unique: %s appears more than once.", v.VariantName)
		}
		seen[v.VariantName] = true
		if v.ModelName == "" {
			return nil, nullErr(field + ".modelName")
		}
		if m, err := getJSON[Model](s.env.Store, tableModels, v.ModelName); err != nil || m == nil {
			return nil, validation("Could not find model \"%s\".", s.arn("model", v.ModelName))
		}
		if len(v.ServerlessConfig) == 0 {
			if v.InstanceType == "" {
				return nil, validation("Invalid ProductionVariant %s: InstanceType must be specified for instance-based variants.", v.VariantName)
			}
			if v.InitialInstanceCount != nil && *v.InitialInstanceCount < 1 {
				return nil, validation("1 validation error detected: Value '%d' at '%s.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1", *v.InitialInstanceCount, field)
			}
		}
		if v.InitialVariantWeight != nil && *v.InitialVariantWeight < 0 {
			return nil, validation("1 validation error detected: Value at '%s.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0", field)
		}
	}
	if in.DataCaptureConfig != nil {
		if err := in.DataCaptureConfig.Validate(); err != nil {
			return nil, validation("%s", err.Error())
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	c := in
	c.Tags = nil
	c.EndpointConfigArn = s.arn("endpoint-config", in.EndpointConfigName)
	c.CreationTime = Ts(s.env.Now())
	for i := range c.ProductionVariants {
		if c.ProductionVariants[i].InitialVariantWeight == nil {
			w := 1.0
			c.ProductionVariants[i].InitialVariantWeight = &w
		}
	}
	if dc := c.DataCaptureConfig; dc != nil && dc.EnableCapture == nil {
		t := true
		dc.EnableCapture = &t
	}
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableConfigs, c.EndpointConfigName); ok {
			return validation("Cannot create already existing endpoint configuration \"%s\".", c.EndpointConfigArn)
		}
		if err := putJSON(tx, tableConfigs, c.EndpointConfigName, &c); err != nil {
			return err
		}
		return mergeTags(tx, c.EndpointConfigArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"EndpointConfigArn": c.EndpointConfigArn}, nil
}

func (s *Service) describeEndpointConfig(_ context.Context, body []byte) (any, error) {
	var in struct{ EndpointConfigName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EndpointConfigName == "" {
		return nil, nullErr("endpointConfigName")
	}
	c, err := getJSON[EndpointConfig](s.env.Store, tableConfigs, in.EndpointConfigName)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, validation("Could not find endpoint configuration \"%s\".", s.arn("endpoint-config", in.EndpointConfigName))
	}
	return c, nil
}

func (s *Service) deleteEndpointConfig(_ context.Context, body []byte) (any, error) {
	var in struct{ EndpointConfigName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EndpointConfigName == "" {
		return nil, nullErr("endpointConfigName")
	}
	arn := s.arn("endpoint-config", in.EndpointConfigName)
	return nil, s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableConfigs, in.EndpointConfigName); !ok {
			return validation("Could not find endpoint configuration \"%s\".", arn)
		}
		tx.Delete(tableTags, arn)
		return tx.Delete(tableConfigs, in.EndpointConfigName)
	})
}

func (s *Service) listEndpointConfigs(_ context.Context, body []byte) (any, error) {
	var p listParams
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	cs, err := listJSON[EndpointConfig](s.env.Store, tableConfigs)
	if err != nil {
		return nil, err
	}
	items := make([]listItem, len(cs))
	for i, c := range cs {
		items[i] = listItem{name: c.EndpointConfigName, created: c.CreationTime.Time(), modified: c.CreationTime.Time(),
			value: map[string]any{"EndpointConfigName": c.EndpointConfigName, "EndpointConfigArn": c.EndpointConfigArn, "CreationTime": c.CreationTime}}
	}
	page, next, err := p.list(items)
	if err != nil {
		return nil, err
	}
	return map[string]any{"EndpointConfigs": page, "NextToken": omitEmpty(next)}, nil
}

// --- endpoints ---

type endpointInput struct {
	EndpointName       string
	EndpointConfigName string
	Tags               []Tag
}

func (s *Service) createEndpoint(_ context.Context, body []byte) (any, error) {
	var in endpointInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validName("endpointName", in.EndpointName); err != nil {
		return nil, err
	}
	if in.EndpointConfigName == "" {
		return nil, nullErr("endpointConfigName")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.env.Now()
	ep := Endpoint{EndpointName: in.EndpointName, EndpointArn: s.arn("endpoint", in.EndpointName),
		EndpointConfigName: in.EndpointConfigName, EndpointStatus: "Creating", CreationTime: Ts(now), LastModifiedTime: Ts(now)}
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableConfigs, in.EndpointConfigName); !ok {
			return validation("Could not find endpoint configuration \"%s\".", s.arn("endpoint-config", in.EndpointConfigName))
		}
		if _, ok := tx.Get(tableEPs, in.EndpointName); ok {
			return validation("Cannot create already existing endpoint \"%s\".", ep.EndpointArn)
		}
		if err := putJSON(tx, tableEPs, ep.EndpointName, &ep); err != nil {
			return err
		}
		return mergeTags(tx, ep.EndpointArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	if err := s.startDeployment(ep.EndpointName, ep.EndpointConfigName, false); err != nil {
		return nil, err
	}
	return map[string]string{"EndpointArn": ep.EndpointArn}, nil
}

func (s *Service) describeEndpoint(_ context.Context, body []byte) (any, error) {
	var in struct{ EndpointName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EndpointName == "" {
		return nil, nullErr("endpointName")
	}
	ep, err := getJSON[Endpoint](s.env.Store, tableEPs, in.EndpointName)
	if err != nil {
		return nil, err
	}
	if ep == nil {
		return nil, validation("Could not find endpoint \"%s\".", s.arn("endpoint", in.EndpointName))
	}
	return ep, nil
}

func (s *Service) updateEndpoint(_ context.Context, body []byte) (any, error) {
	var in endpointInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EndpointName == "" {
		return nil, nullErr("endpointName")
	}
	if in.EndpointConfigName == "" {
		return nil, nullErr("endpointConfigName")
	}
	arn := s.arn("endpoint", in.EndpointName)
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableConfigs, in.EndpointConfigName); !ok {
			return validation("Could not find endpoint configuration \"%s\".", s.arn("endpoint-config", in.EndpointConfigName))
		}
		ep, err := txGet[Endpoint](tx, tableEPs, in.EndpointName)
		if err != nil {
			return err
		}
		if ep == nil {
			return validation("Could not find endpoint \"%s\".", arn)
		}
		if ep.EndpointStatus != "InService" && ep.EndpointStatus != "Failed" {
			return validation("Cannot update in-progress endpoint \"%s\".", arn)
		}
		ep.EndpointStatus = "Updating"
		ep.LastModifiedTime = Ts(s.env.Now())
		return putJSON(tx, tableEPs, ep.EndpointName, ep)
	})
	if err != nil {
		return nil, err
	}
	if err := s.startDeployment(in.EndpointName, in.EndpointConfigName, true); err != nil {
		return nil, err
	}
	return map[string]string{"EndpointArn": arn}, nil
}

func (s *Service) deleteEndpoint(ctx context.Context, body []byte) (any, error) {
	var in struct{ EndpointName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EndpointName == "" {
		return nil, nullErr("endpointName")
	}
	arn := s.arn("endpoint", in.EndpointName)
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableEPs, in.EndpointName); !ok {
			return validation("Could not find endpoint \"%s\".", arn)
		}
		tx.Delete(tableTags, arn)
		return tx.Delete(tableEPs, in.EndpointName)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	d := s.deploys[in.EndpointName]
	le := s.live[in.EndpointName]
	delete(s.live, in.EndpointName)
	s.mu.Unlock()
	if d != nil {
		d.cancel()
		<-d.done
	}
	if le != nil {
		// Capture is flushed before DeleteEndpoint returns.
		if err := le.stop(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("stopping endpoint", "endpoint", in.EndpointName, "err", err)
		}
	}
	return nil, nil
}

func (s *Service) listEndpoints(_ context.Context, body []byte) (any, error) {
	var p listParams
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	eps, err := listJSON[Endpoint](s.env.Store, tableEPs)
	if err != nil {
		return nil, err
	}
	items := make([]listItem, len(eps))
	for i, e := range eps {
		items[i] = listItem{name: e.EndpointName, created: e.CreationTime.Time(), modified: e.LastModifiedTime.Time(), status: e.EndpointStatus,
			value: map[string]any{"EndpointName": e.EndpointName, "EndpointArn": e.EndpointArn, "CreationTime": e.CreationTime,
				"LastModifiedTime": e.LastModifiedTime, "EndpointStatus": e.EndpointStatus}}
	}
	page, next, err := p.list(items)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Endpoints": page, "NextToken": omitEmpty(next)}, nil
}

func txGet[T any](tx store.Tx, table, key string) (*T, error) {
	b, ok := tx.Get(table, key)
	if !ok {
		return nil, nil
	}
	v := new(T)
	if err := jsonUnmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

// --- deployments ---

// deployment is an endpoint creation or update in progress.
type deployment struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// liveEndpoint is an endpoint's running variants.
type liveEndpoint struct {
	ep        serving.Endpoint
	instances []*smcontainer.Instance
	writers   []*capture.Writer
	roots     []string
	stopping  atomic.Bool
}

// stop writes buffered capture records, then stops the containers.
func (le *liveEndpoint) stop(ctx context.Context) error {
	le.stopping.Store(true)
	var errs []error
	for _, w := range le.writers {
		errs = append(errs, w.Close(ctx))
	}
	for _, in := range le.instances {
		errs = append(errs, in.Stop(ctx))
	}
	for _, r := range le.roots {
		os.RemoveAll(r)
	}
	return errors.Join(errs...)
}

func (s *Service) startDeployment(name, configName string, update bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("sagemaker: the emulator is shutting down")
	}
	if old := s.deploys[name]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	d := &deployment{cancel: cancel, done: make(chan struct{})}
	s.deploys[name] = d
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(d.done)
		defer cancel()
		s.deploy(ctx, name, configName, update)
		s.mu.Lock()
		if s.deploys[name] == d {
			delete(s.deploys, name)
		}
		s.mu.Unlock()
	}()
	return nil
}

func (s *Service) deploy(ctx context.Context, name, configName string, update bool) {
	log := s.log.With("endpoint", name)
	cfg, err := getJSON[EndpointConfig](s.env.Store, tableConfigs, configName)
	if err == nil && cfg == nil {
		err = fmt.Errorf("Could not find endpoint configuration %q.", configName)
	}
	var le *liveEndpoint
	if err == nil {
		le, err = s.launch(ctx, name, cfg)
	}
	if ctx.Err() != nil {
		if le != nil {
			le.stop(context.Background())
		}
		return
	}
	now := s.env.Now()
	if err != nil {
		log.Warn("endpoint deployment failed", "err", err)
		s.updateEndpointRecord(name, func(ep *Endpoint) {
			ep.FailureReason = truncate(err.Error(), maxFailureReason)
			ep.LastModifiedTime = Ts(now)
			if update && s.isLive(name) {
				ep.EndpointStatus = "InService" // rolled back to the previous config
			} else {
				ep.EndpointStatus = "Failed"
			}
		})
		return
	}
	images := map[string]string{}
	for _, v := range cfg.ProductionVariants {
		if m, _ := getJSON[Model](s.env.Store, tableModels, v.ModelName); m != nil && m.container() != nil {
			images[v.VariantName] = m.container().Image
		}
	}
	ok := s.updateEndpointRecord(name, func(ep *Endpoint) {
		ep.EndpointStatus = "InService"
		ep.FailureReason = ""
		ep.EndpointConfigName = configName
		ep.LastModifiedTime = Ts(now)
		ep.ProductionVariants = nil
		for _, v := range cfg.ProductionVariants {
			w := v.weight()
			n := 1
			if v.InitialInstanceCount != nil {
				n = *v.InitialInstanceCount
			}
			img := images[v.VariantName]
			ep.ProductionVariants = append(ep.ProductionVariants, ProductionVariantSummary{VariantName: v.VariantName,
				DeployedImages: []DeployedImage{{SpecifiedImage: img, ResolvedImage: img, ResolutionTime: Ts(now)}},
				CurrentWeight:  &w, DesiredWeight: &w, CurrentInstanceCount: &n, DesiredInstanceCount: &n})
		}
		ep.DataCaptureConfig = nil
		if dc := cfg.DataCaptureConfig; dc != nil {
			status := "Stopped"
			if dc.Enabled() {
				status = "Started"
			}
			ep.DataCaptureConfig = &DataCaptureConfigSummary{EnableCapture: dc.Enabled(), CaptureStatus: status,
				CurrentSamplingPercentage: *dc.InitialSamplingPercentage, DestinationS3Uri: dc.DestinationS3Uri, KmsKeyId: dc.KmsKeyId}
		}
	})
	if !ok { // deleted meanwhile
		le.stop(context.Background())
		return
	}
	s.mu.Lock()
	old := s.live[name]
	s.live[name] = le
	s.mu.Unlock()
	if old != nil {
		old.stop(context.Background())
	}
	for i, inst := range le.instances {
		s.wg.Add(1)
		go s.watch(name, le, le.ep.Variants[i].Name, inst)
	}
	log.Info("endpoint in service", "config", configName)
}

// watch marks the endpoint Failed when a serving container exits while the
// endpoint is in service (SageMaker would replace the instance; locally the
// failure is reported so that nothing looks healthy that is not).
func (s *Service) watch(name string, le *liveEndpoint, variant string, inst *smcontainer.Instance) {
	defer s.wg.Done()
	select {
	case <-inst.Done():
	case <-s.ctx.Done():
		return
	}
	if le.stopping.Load() {
		return
	}
	s.mu.Lock()
	current := s.live[name] == le
	if current {
		delete(s.live, name)
	}
	s.mu.Unlock()
	if !current {
		return
	}
	reason := fmt.Sprintf("The primary container for production variant %s exited unexpectedly (%v). Update or re-create the endpoint.", variant, inst.Err())
	s.log.Error("serving container exited", "endpoint", name, "variant", variant, "err", inst.Err())
	s.updateEndpointRecord(name, func(ep *Endpoint) {
		ep.EndpointStatus = "Failed"
		ep.FailureReason = reason
		ep.LastModifiedTime = Ts(s.env.Now())
	})
	le.stop(context.Background())
}

func (s *Service) isLive(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live[name] != nil
}

// updateEndpointRecord applies fn to the stored endpoint; false if it is
// gone. fn runs inside a store transaction and must not use the store.
func (s *Service) updateEndpointRecord(name string, fn func(*Endpoint)) bool {
	found := false
	s.env.Store.Update(func(tx store.Tx) error {
		ep, err := txGet[Endpoint](tx, tableEPs, name)
		if err != nil || ep == nil {
			return err
		}
		found = true
		fn(ep)
		return putJSON(tx, tableEPs, name, ep)
	})
	return found
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// launch starts a serving container per production variant.
func (s *Service) launch(ctx context.Context, name string, cfg *EndpointConfig) (_ *liveEndpoint, err error) {
	le := &liveEndpoint{ep: serving.Endpoint{Name: name}}
	defer func() {
		if err != nil {
			le.stop(context.Background())
		}
	}()
	var capCfg capture.Config
	capOn := cfg.DataCaptureConfig.Enabled()
	if capOn {
		if capCfg, err = capture.ConfigFrom(cfg.DataCaptureConfig); err != nil {
			return nil, err
		}
	}
	for _, v := range cfg.ProductionVariants {
		m, err := getJSON[Model](s.env.Store, tableModels, v.ModelName)
		if err != nil {
			return nil, err
		}
		if m == nil || m.container() == nil {
			return nil, fmt.Errorf("Could not find model \"%s\".", s.arn("model", v.ModelName))
		}
		c := m.container()
		if _, err := s.runner.Resolve(c.Image); err != nil {
			return nil, fmt.Errorf("The image of production variant %s cannot run: %v", v.VariantName, err)
		}
		root, err := os.MkdirTemp(s.cfg.workDir, "sagemaker-endpoint-"+name+"-")
		if err != nil {
			return nil, err
		}
		le.roots = append(le.roots, root)
		if err := s.fetchModel(ctx, c, filepath.Join(root, "model")); err != nil {
			return nil, err
		}
		timeout := 10 * time.Minute
		if v.ContainerStartupHealthCheckTimeoutInSeconds != nil {
			timeout = time.Duration(*v.ContainerStartupHealthCheckTimeoutInSeconds) * time.Second
		}
		inst, err := s.runner.Serve(ctx, smcontainer.Spec{Name: name + "/" + v.VariantName, Kind: "endpoint", Image: c.Image,
			Root: root, Env: c.Environment, StartupTimeout: timeout})
		if err != nil {
			return nil, fmt.Errorf("The primary container for production variant %s did not pass the ping health check: %v", v.VariantName, err)
		}
		le.instances = append(le.instances, inst)
		sv := &serving.Variant{Name: v.VariantName, Weight: v.weight(), URL: inst.URL}
		if capOn {
			w, err := capture.NewWriter(capCfg, s.capturePutter(), capture.Options{Endpoint: name, Variant: v.VariantName,
				FlushInterval: s.cfg.flushInterval, Now: s.env.Now, Logger: s.log})
			if err != nil {
				return nil, err
			}
			le.writers = append(le.writers, w)
			sv.Capture = w
		}
		le.ep.Variants = append(le.ep.Variants, sv)
	}
	return le, nil
}

// fetchModel downloads the container's model data into dir: a tar.gz is
// extracted, any other object is copied as is.
func (s *Service) fetchModel(ctx context.Context, c *ContainerDefinition, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	url := c.ModelDataUrl
	if url == "" && c.ModelDataSource != nil && c.ModelDataSource.S3DataSource != nil {
		url = c.ModelDataSource.S3DataSource.S3Uri
		if c.ModelDataSource.S3DataSource.S3DataType == "S3Prefix" {
			return s.fetchPrefix(ctx, url, dir)
		}
	}
	if url == "" {
		return nil
	}
	failed := func(err error) error {
		return fmt.Errorf("Failed to download model data for container \"container_1\" from URL: \"%s\". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object. (%v)", url, err)
	}
	bucket, key, err := capture.ParseS3URI(url)
	if err != nil {
		return failed(err)
	}
	data, _, err := s.objects.GetObject(ctx, bucket, key)
	if err != nil {
		return failed(err)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		if err := serving.ExtractTarGz(data, dir); err != nil {
			return fmt.Errorf("Failed to extract model data archive %s: %v", url, err)
		}
		return nil
	}
	return os.WriteFile(filepath.Join(dir, filepath.Base(key)), data, 0o644)
}

func (s *Service) fetchPrefix(ctx context.Context, uri, dir string) error {
	bucket, prefix, err := capture.ParseS3URI(uri)
	if err != nil {
		return err
	}
	if prefix != "" {
		prefix += "/"
	}
	objs, err := s.objects.ListObjects(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("Failed to download model data from %s: %v", uri, err)
	}
	for _, o := range objs {
		dst, err := serving.SafeJoin(dir, strings.TrimPrefix(o.Key, prefix))
		if err != nil {
			continue
		}
		data, _, err := s.objects.GetObject(ctx, bucket, o.Key)
		if err != nil {
			return fmt.Errorf("Failed to download model data s3://%s/%s: %v", bucket, o.Key, err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// --- runtime ---

func (s *Service) invoke(w http.ResponseWriter, r *http.Request, name string) {
	s.mu.RLock()
	le := s.live[name]
	s.mu.RUnlock()
	if le == nil {
		ep, _ := getJSON[Endpoint](s.env.Store, tableEPs, name)
		if ep == nil {
			serving.WriteError(w, serving.EndpointNotFound(name, s.env.AccountID))
			return
		}
		serving.WriteError(w, serving.ValidationError("Endpoint %s of account %s is not in service: its status is %s.", name, s.env.AccountID, ep.EndpointStatus))
		return
	}
	s.proxy.Invoke(w, r, &le.ep)
}
