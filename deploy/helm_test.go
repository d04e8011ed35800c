package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const chartDir = "deploy/helm/ofpdp"

// apiTypes are the Kubernetes types the chart may render, by apiVersion and kind; any other
// object fails the test.
var apiTypes = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return new(appsv1.Deployment) },
	"v1/Service":                              func() any { return new(corev1.Service) },
	"v1/ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"policy/v1/PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return new(networkingv1.NetworkPolicy) },
	"batch/v1/Job":                            func() any { return new(batchv1.Job) },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return new(monitoringv1.ServiceMonitor) },
}

// rendered is what helm template produced, decoded.
type rendered struct {
	deployment *appsv1.Deployment
	services   map[string]*corev1.Service
	configMaps map[string]*corev1.ConfigMap
	jobs       []*batchv1.Job
	netpol     *networkingv1.NetworkPolicy
	pdb        *policyv1.PodDisruptionBudget
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	monitor    *monitoringv1.ServiceMonitor
	kinds      []string
}

// TestHelmChart lints the chart and renders it with the default values and with the
// production example, decodes every object strictly (unknown or misplaced fields are errors)
// into its Kubernetes type, and checks what a bank's platform team relies on.
func TestHelmChart(t *testing.T) {
	goBin := need(t, "go", "the Go toolchain runs helm through the module proxy")
	root := repoRoot(t)
	bin := makeBuild(t, t.TempDir(), testVersion, testDate)
	helm := func(args ...string) []byte {
		t.Helper()
		return run(t, root, goBin, append([]string{"run", "helm.sh/helm/v3/cmd/helm@" + helmVersion}, args...)...)
	}
	for _, tc := range []struct {
		name      string
		values    []string
		wantKinds []string
		wantAdmin bool
		// the ops listener serves HTTPS (secrets.opsTLS); the http connector's credentials are
		// mounted (secrets.bank)
		wantOpsTLS, wantBank bool
		minReplica           int32
		// the problems `ofpdp serve --check-config` reports with every Secret in place: the
		// settings a bank must give (docs/deploy.md)
		wantProblems []string
	}{
		{name: "default values", minReplica: 2,
			wantProblems: []string{"dp_id", "bank.connector", "paynet.consent_base_url", "paynet.dc_jwks_url_template",
				"paynet.issuer", "paynet.client_cert_fingerprints", "authorize.redirect_uri_allowlist"},
			wantKinds: []string{"ConfigMap", "ConfigMap", "Deployment", "Job", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "Service"}},
		// The production example is a complete production configuration: the http connector
		// with its credentials, and the admin API on an ops listener that serves HTTPS.
		{name: "production example", values: []string{"-f", "deploy/helm/production-values.yaml"},
			wantAdmin: true, wantOpsTLS: true, wantBank: true, minReplica: 3,
			wantKinds: []string{"ConfigMap", "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job", "NetworkPolicy",
				"PodDisruptionBudget", "Service", "Service", "Service", "ServiceMonitor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helm(append([]string{"lint", "--strict", chartDir}, tc.values...)...)
			out := helm(append([]string{"template", "ofpdp", chartDir, "--namespace", "openfinance"}, tc.values...)...)
			r := decodeAll(t, out)
			slices.Sort(r.kinds)
			if !slices.Equal(r.kinds, tc.wantKinds) {
				t.Errorf("rendered kinds %v, want %v", r.kinds, tc.wantKinds)
			}
			checkDeployment(t, r, tc.minReplica, tc.wantOpsTLS)
			checkConfig(t, r, tc.wantAdmin, tc.wantOpsTLS, tc.wantBank)
			checkConfigWithBinary(t, bin, r, tc.wantProblems)
			checkMigration(t, r)
			checkExposure(t, r, tc.wantOpsTLS)
		})
	}
}

// TestHelmValuesSchema: values.schema.json refuses a misspelt value and a single replica, so a
// bank's mistake fails at `helm install` and is not silently ignored.
func TestHelmValuesSchema(t *testing.T) {
	goBin := need(t, "go", "the Go toolchain runs helm through the module proxy")
	for set, want := range map[string]string{
		"replicaCont=3":                   "replicaCont",
		"replicaCount=1":                  "/replicaCount",
		"networkPolicy.opsForm[0].x=y":    "opsForm",
		"autoscaling.minReplicas=1":       "/autoscaling/minReplicas",
		"terminationGracePeriodSeconds=5": "/terminationGracePeriodSeconds",
	} {
		cmd := exec.Command(goBin, "run", "helm.sh/helm/v3/cmd/helm@"+helmVersion, "template", "ofpdp", chartDir, "--set", set)
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("helm template --set %s: %v, want refused naming %q\n%s", set, err, want, out)
		}
	}
}

func decodeAll(t *testing.T, out []byte) *rendered {
	t.Helper()
	r := &rendered{services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{}}
	for i, doc := range bytes.Split(out, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		newObj, ok := apiTypes[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Fatalf("document %d: unexpected object %s %s", i, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := decodeStrict(doc, obj); err != nil {
			t.Fatalf("%s (document %d) does not decode strictly: %v\n%s", tm.Kind, i, err, doc)
		}
		r.kinds = append(r.kinds, tm.Kind)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployment = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *batchv1.Job:
			r.jobs = append(r.jobs, o)
		case *networkingv1.NetworkPolicy:
			r.netpol = o
		case *policyv1.PodDisruptionBudget:
			r.pdb = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpa = o
		case *monitoringv1.ServiceMonitor:
			r.monitor = o
		}
	}
	if r.deployment == nil {
		t.Fatal("no Deployment rendered")
	}
	return r
}

// decodeStrict decodes a YAML object the way the API server's strict field validation does:
// field names match case-sensitively, and unknown or duplicate fields are errors.
func decodeStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

func checkDeployment(t *testing.T, r *rendered, minReplicas int32, opsTLS bool) {
	t.Helper()
	d := r.deployment
	if r.hpa != nil {
		if d.Spec.Replicas != nil {
			t.Error("Deployment sets replicas although the HorizontalPodAutoscaler owns them")
		}
		if r.hpa.Spec.MinReplicas == nil || *r.hpa.Spec.MinReplicas < minReplicas || r.hpa.Spec.ScaleTargetRef.Name != d.Name {
			t.Errorf("HorizontalPodAutoscaler %+v, want at least %d replicas of %s", r.hpa.Spec, minReplicas, d.Name)
		}
	} else if d.Spec.Replicas == nil || *d.Spec.Replicas < minReplicas {
		t.Errorf("replicas %v, want at least %d", d.Spec.Replicas, minReplicas)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("rolling update may take a ready replica away before its successor is ready")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%s:%d", p.Name, p.ContainerPort))
	}
	if want := []string{"api:8443", "web:8444", "ops:9090"}; !slices.Equal(ports, want) {
		t.Errorf("container ports %v, want %v", ports, want)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "ops" {
			t.Errorf("%s probe %+v, want an HTTP GET on the ops port", name, p)
		} else if want := map[bool]corev1.URIScheme{false: corev1.URISchemeHTTP, true: corev1.URISchemeHTTPS}[opsTLS]; p.HTTPGet.Scheme != want {
			t.Errorf("%s probe scheme %q, want %q (ops TLS %v)", name, p.HTTPGet.Scheme, want, opsTLS)
		}
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe path %q, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	sc, psc := c.SecurityContext, pod.SecurityContext
	if sc == nil || psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("security context pod %+v container %+v: want non-root, read-only root, no privilege escalation, no capabilities", psc, sc)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU requests and a memory limit", c.Resources)
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topology spread constraints")
	}
	for _, tsc := range pod.TopologySpreadConstraints {
		if tsc.LabelSelector == nil || !selects(tsc.LabelSelector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("topology spread %s does not select the pods", tsc.TopologyKey)
		}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it never uses")
	}
	if r.pdb == nil || !selects(r.pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Error("no PodDisruptionBudget selecting the pods")
	}
}

// checkConfig: the ConfigMap's ofpdp.yaml points every file key at a mounted Secret and the
// listeners at the container ports; the database URL comes from a Secret.
func checkConfig(t *testing.T, r *rendered, wantAdmin, wantOpsTLS, wantBank bool) {
	t.Helper()
	pod := r.deployment.Spec.Template.Spec
	c := pod.Containers[0]
	var cm *corev1.ConfigMap
	for _, v := range pod.Volumes {
		if v.Name == "config" && v.ConfigMap != nil {
			cm = r.configMaps[v.ConfigMap.Name]
		}
	}
	if cm == nil {
		t.Fatal("the pod mounts no rendered ConfigMap as config")
	}
	var file map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["ofpdp.yaml"]), &file); err != nil {
		t.Fatalf("ofpdp.yaml: %v\n%s", err, cm.Data["ofpdp.yaml"])
	}
	cfg := map[string]map[string]any{}
	for k, v := range file {
		if section, ok := v.(map[string]any); ok {
			cfg[k] = section
		}
	}
	for section, want := range map[string]string{"api": ":8443", "web": ":8444", "ops": ":9090"} {
		if got := cfg[section]["addr"]; got != want {
			t.Errorf("%s.addr = %v, want %s", section, got, want)
		}
	}
	files := map[string]string{
		"tls.cert_file": "tls", "tls.key_file": "tls", "keys.signing_key_file": "keys", "keys.signing_cert_file": "keys",
		"keys.mtls_cert_file": "keys", "keys.mtls_key_file": "keys", "paynet.ca_file": "paynet",
		"paynet.jwks_file": "paynet", "secrets.server_secret_file": "server-secret",
	}
	if wantAdmin {
		files["ops.admin_token_file"] = "admin-token"
	} else if _, ok := cfg["ops"]["admin_token_file"]; ok {
		t.Error("ops.admin_token_file set without secrets.adminToken")
	}
	if wantOpsTLS {
		files["ops.tls_cert_file"], files["ops.tls_key_file"] = "ops-tls", "ops-tls"
	} else if _, ok := cfg["ops"]["tls_cert_file"]; ok {
		t.Error("ops.tls_cert_file set without secrets.opsTLS")
	}
	if wantBank {
		for _, k := range []string{"http_ca_file", "http_cert_file", "http_key_file", "http_bearer_token_file"} {
			files["bank."+k] = "bank"
		}
	} else if _, ok := cfg["bank"]["http_cert_file"]; ok {
		t.Error("bank.http_cert_file set without secrets.bank")
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volume %s mounted writable", m.Name)
		}
		mounts[m.Name] = m.MountPath
	}
	secretVolumes := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secretVolumes[v.Name] = true
		}
	}
	for key, volume := range files {
		section, name, _ := strings.Cut(key, ".")
		path, _ := cfg[section][name].(string)
		if !secretVolumes[volume] || mounts[volume] == "" || filepath.Dir(path) != mounts[volume] {
			t.Errorf("%s = %q, want a file in the Secret volume %s (mounted at %q)", key, path, volume, mounts[volume])
		}
	}
	var dbFromSecret bool
	for _, e := range c.Env {
		if e.Name == "OFPDP_DATABASE_URL" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			dbFromSecret = true
		}
		if e.Name == "OFPDP_CONFIG" && e.Value != mounts["config"]+"/ofpdp.yaml" {
			t.Errorf("OFPDP_CONFIG = %q, want the mounted ConfigMap", e.Value)
		}
	}
	if !dbFromSecret {
		t.Error("OFPDP_DATABASE_URL does not come from a Secret")
	}
	if r.deployment.Spec.Template.Annotations["checksum/config"] == "" {
		t.Error("no checksum/config annotation: a changed ConfigMap would not roll the pods")
	}
}

// checkMigration: `ofpdp migrate up` runs as a pre-install/pre-upgrade hook with the same
// configuration, volumes and security context as the server.
func checkMigration(t *testing.T, r *rendered) {
	t.Helper()
	if len(r.jobs) != 1 {
		t.Fatalf("%d Jobs, want the migration Job", len(r.jobs))
	}
	job := r.jobs[0]
	if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("migration Job hook %q, want pre-install,pre-upgrade", job.Annotations["helm.sh/hook"])
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]
	if got := append(slices.Clone(c.Command), c.Args...); !slices.Equal(got, []string{"ofpdp", "migrate", "up"}) {
		t.Errorf("migration Job runs %q, want ofpdp migrate up", got)
	}
	for name, svc := range r.services {
		if selects(svc.Spec.Selector, job.Spec.Template.Labels) {
			t.Errorf("Service %s selects the migration pod", name)
		}
	}
	if selects(r.deployment.Spec.Selector.MatchLabels, job.Spec.Template.Labels) || (r.pdb != nil && selects(r.pdb.Spec.Selector.MatchLabels, job.Spec.Template.Labels)) {
		t.Error("the Deployment's or the PodDisruptionBudget's selector matches the migration pod")
	}
	server := r.deployment.Spec.Template.Spec
	if c.Image != server.Containers[0].Image {
		t.Errorf("migration image %q, server image %q", c.Image, server.Containers[0].Image)
	}
	if fmt.Sprint(c.SecurityContext) != fmt.Sprint(server.Containers[0].SecurityContext) || fmt.Sprint(c.VolumeMounts) != fmt.Sprint(server.Containers[0].VolumeMounts) {
		t.Error("migration Job's security context or mounts differ from the server's")
	}
	for _, v := range pod.Volumes {
		if v.Name != "config" {
			continue
		}
		hookCM := r.configMaps[v.ConfigMap.Name]
		serverCM := r.configMaps[r.deployment.Name]
		if hookCM == nil || hookCM.Annotations["helm.sh/hook"] == "" || serverCM == nil || hookCM.Data["ofpdp.yaml"] != serverCM.Data["ofpdp.yaml"] {
			t.Error("the migration Job's ConfigMap is not a hook with the server's configuration")
		}
	}
}

// checkExposure: one Service per listener, each on its own port; the NetworkPolicy admits each
// listener only from its own callers.
func checkExposure(t *testing.T, r *rendered, opsTLS bool) {
	t.Helper()
	for _, name := range []string{"api", "web", "ops"} {
		svc := r.services[r.deployment.Name+"-"+name]
		if svc == nil || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != name ||
			!selects(svc.Spec.Selector, r.deployment.Spec.Template.Labels) {
			t.Errorf("Service for the %s listener: %+v", name, svc)
		}
	}
	if r.netpol == nil || !selects(r.netpol.Spec.PodSelector.MatchLabels, r.deployment.Spec.Template.Labels) {
		t.Fatal("no NetworkPolicy selecting the pods")
	}
	for _, rule := range r.netpol.Spec.Ingress {
		if len(rule.Ports) != 1 || len(rule.From) == 0 {
			t.Errorf("ingress rule %+v: want one listener port and its callers", rule)
		}
	}
	if r.monitor == nil {
		return
	}
	if len(r.monitor.Spec.Endpoints) != 1 || r.monitor.Spec.Endpoints[0].Port != "ops" {
		t.Fatalf("ServiceMonitor endpoints %+v, want the ops port", r.monitor.Spec.Endpoints)
	}
	ep := r.monitor.Spec.Endpoints[0]
	if opsTLS {
		wantName := r.deployment.Name + "-ops.openfinance.svc" // helm template --namespace openfinance
		if ep.Scheme == nil || *ep.Scheme != "https" || ep.TLSConfig == nil || ep.TLSConfig.CA.Secret == nil ||
			ep.TLSConfig.ServerName == nil || *ep.TLSConfig.ServerName != wantName {
			t.Errorf("ServiceMonitor endpoint %+v: want https, verified against the ops Secret's CA as %s", ep, wantName)
		}
	} else if ep.Scheme != nil && *ep.Scheme != "http" {
		t.Errorf("ServiceMonitor scheme %v on a plain HTTP ops listener", *ep.Scheme)
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// secretFiles are the files the chart's Secrets must hold (values.yaml, docs/deploy.md), and
// what `ofpdp pki init` writes for each.
var secretFiles = map[string]string{
	"tls/tls.crt": "dp-server.crt", "tls/tls.key": "dp-server.key",
	"keys/signing.crt": "dp-sig.crt", "keys/signing.key": "dp-sig.key",
	"keys/mtls.crt": "dp-mtls.crt", "keys/mtls.key": "dp-mtls.key",
	"paynet/ca.crt": "ca.crt", "paynet/jwks.json": "paynet.jwks.json",
	"ops-tls/tls.crt": "dp-server.crt", "ops-tls/tls.key": "dp-server.key",
	"bank/ca.crt": "ca.crt", "bank/tls.crt": "dp-mtls.crt", "bank/tls.key": "dp-mtls.key",
}

// checkConfigWithBinary lays the Secrets out as the chart mounts them (under a temporary
// directory instead of /etc/ofpdp), then has the ofpdp binary validate the rendered ofpdp.yaml:
// every key must be one ofpdp knows and every mounted file one it accepts. Only wantProblems,
// the settings left to the bank, may be reported.
func checkConfigWithBinary(t *testing.T, bin string, r *rendered, wantProblems []string) {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, bin, "pki", "init", "--dir", filepath.Join(dir, "pki"))
	etc := filepath.Join(dir, "etc", "ofpdp")
	place := func(rel string, data []byte) {
		t.Helper()
		path := filepath.Join(etc, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for rel, src := range secretFiles {
		b, err := os.ReadFile(filepath.Join(dir, "pki", src))
		if err != nil {
			t.Fatal(err)
		}
		place(rel, b)
	}
	place("server-secret/server.secret", bytes.Repeat([]byte{0x5a}, 32))
	place("admin/admin.token", bytes.Repeat([]byte("t"), 40))
	place("bank/token", bytes.Repeat([]byte("b"), 40))
	cfg := strings.ReplaceAll(r.configMaps[r.deployment.Name].Data["ofpdp.yaml"], "/etc/ofpdp/", etc+"/")
	cfgFile := filepath.Join(dir, "ofpdp.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgFile, "--check-config")
	cmd.Env = append(os.Environ(), "OFPDP_DATABASE_URL=postgres://ofpdp@db.internal:5432/ofpdp?sslmode=verify-full")
	out, err := cmd.CombinedOutput()
	if len(wantProblems) == 0 {
		if err != nil || !strings.Contains(string(out), "configuration OK") {
			t.Errorf("ofpdp serve --check-config on the rendered configuration: %v\n%s", err, out)
		}
		return
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		_, rest, _ := strings.Cut(line, "(")
		key, _, _ := strings.Cut(rest, ")")
		problems = append(problems, key)
	}
	if err == nil || !slices.Equal(problems, wantProblems) {
		t.Errorf("ofpdp serve --check-config reported %q (%v), want only %q\n%s", problems, err, wantProblems, out)
	}
}
