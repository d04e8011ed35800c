{{/* Names and labels. */}}
{{- define "ofpdp.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ofpdp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ofpdp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ofpdp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ofpdp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ofpdp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ofpdp.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
ofpdp.yaml: the values' config with the keys the chart owns set over it (listener addresses and
the paths where the Secrets are mounted).
*/}}
{{- define "ofpdp.config" -}}
{{- $ops := dict "addr" (printf ":%v" .Values.ports.ops) -}}
{{- if .Values.secrets.adminToken -}}
{{- $_ := set $ops "admin_token_file" "/etc/ofpdp/admin/admin.token" -}}
{{- end -}}
{{- if .Values.secrets.opsTLS -}}
{{- $_ := set $ops "tls_cert_file" "/etc/ofpdp/ops-tls/tls.crt" -}}
{{- $_ := set $ops "tls_key_file" "/etc/ofpdp/ops-tls/tls.key" -}}
{{- end -}}
{{- $owned := dict
  "api" (dict "addr" (printf ":%v" .Values.ports.api))
  "web" (dict "addr" (printf ":%v" .Values.ports.web))
  "ops" $ops
  "tls" (dict "cert_file" "/etc/ofpdp/tls/tls.crt" "key_file" "/etc/ofpdp/tls/tls.key")
  "keys" (dict "signing_key_file" "/etc/ofpdp/keys/signing.key" "signing_cert_file" "/etc/ofpdp/keys/signing.crt"
               "mtls_key_file" "/etc/ofpdp/keys/mtls.key" "mtls_cert_file" "/etc/ofpdp/keys/mtls.crt")
  "paynet" (dict "ca_file" "/etc/ofpdp/paynet/ca.crt" "jwks_file" "/etc/ofpdp/paynet/jwks.json")
  "secrets" (dict "server_secret_file" "/etc/ofpdp/server-secret/server.secret")
-}}
{{- with .Values.secrets.bank -}}
{{- if .name -}}
{{- $bank := dict -}}
{{- if .ca -}}
{{- $_ := set $bank "http_ca_file" "/etc/ofpdp/bank/ca.crt" -}}
{{- end -}}
{{- if .clientCert -}}
{{- $_ := set $bank "http_cert_file" "/etc/ofpdp/bank/tls.crt" -}}
{{- $_ := set $bank "http_key_file" "/etc/ofpdp/bank/tls.key" -}}
{{- end -}}
{{- if .bearerToken -}}
{{- $_ := set $bank "http_bearer_token_file" "/etc/ofpdp/bank/token" -}}
{{- end -}}
{{- $_ := set $owned "bank" $bank -}}
{{- end -}}
{{- end -}}
{{- toYaml (mergeOverwrite (deepCopy (.Values.config | default dict)) $owned) -}}
{{- end -}}

{{/* The pod spec parts the server and the migration Job share. */}}
{{- define "ofpdp.env" -}}
- name: OFPDP_CONFIG
  value: /etc/ofpdp/config/ofpdp.yaml
- name: OFPDP_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.database }}
      key: url
{{- end -}}

{{- define "ofpdp.volumeMounts" -}}
- name: config
  mountPath: /etc/ofpdp/config
  readOnly: true
- name: tls
  mountPath: /etc/ofpdp/tls
  readOnly: true
- name: keys
  mountPath: /etc/ofpdp/keys
  readOnly: true
- name: paynet
  mountPath: /etc/ofpdp/paynet
  readOnly: true
- name: server-secret
  mountPath: /etc/ofpdp/server-secret
  readOnly: true
{{- if .Values.secrets.adminToken }}
- name: admin-token
  mountPath: /etc/ofpdp/admin
  readOnly: true
{{- end }}
{{- if .Values.secrets.opsTLS }}
- name: ops-tls
  mountPath: /etc/ofpdp/ops-tls
  readOnly: true
{{- end }}
{{- if .Values.secrets.bank.name }}
- name: bank
  mountPath: /etc/ofpdp/bank
  readOnly: true
{{- end }}
{{- end -}}

{{- define "ofpdp.volumes" -}}
- name: config
  configMap:
    name: {{ .configMap }}
- name: tls
  secret:
    secretName: {{ .Values.secrets.tls }}
    defaultMode: 0440
- name: keys
  secret:
    secretName: {{ .Values.secrets.keys }}
    defaultMode: 0440
- name: paynet
  secret:
    secretName: {{ .Values.secrets.paynet }}
    defaultMode: 0440
- name: server-secret
  secret:
    secretName: {{ .Values.secrets.serverSecret }}
    defaultMode: 0440
{{- if .Values.secrets.adminToken }}
- name: admin-token
  secret:
    secretName: {{ .Values.secrets.adminToken }}
    defaultMode: 0440
{{- end }}
{{- if .Values.secrets.opsTLS }}
- name: ops-tls
  secret:
    secretName: {{ .Values.secrets.opsTLS }}
    defaultMode: 0440
{{- end }}
{{- with .Values.secrets.bank }}
{{- if .name }}
- name: bank
  secret:
    secretName: {{ .name }}
    defaultMode: 0440
    items:
      {{- if .ca }}
      - key: ca.crt
        path: ca.crt
      {{- end }}
      {{- if .clientCert }}
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      {{- end }}
      {{- if .bearerToken }}
      - key: token
        path: token
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The scheme of the ops listener: HTTPS once secrets.opsTLS is set. */}}
{{- define "ofpdp.opsScheme" -}}
{{- if .Values.secrets.opsTLS -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}
