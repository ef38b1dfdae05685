{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "telemetry-sidecar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name for the chart's objects. */}}
{{- define "telemetry-sidecar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "telemetry-sidecar.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Chart-wide labels of the webhook's pods (also what its spreading constraints select). */}}
{{- define "telemetry-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "telemetry-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "telemetry-sidecar.labels" -}}
helm.sh/chart: {{ include "telemetry-sidecar.chart" . }}
{{ include "telemetry-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "telemetry-sidecar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "telemetry-sidecar.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Name of the webhook's Service, Deployment and PodDisruptionBudget. A Service name
is a DNS label (at most 63 characters), so the full name is cut to leave room for
"-webhook" (release names run to 53 characters).
*/}}
{{- define "telemetry-sidecar.webhookName" -}}
{{- printf "%s-webhook" (include "telemetry-sidecar.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* Name of the webhook's TLS Secret (chart-generated or cert-manager's). */}}
{{- define "telemetry-sidecar.tlsSecretName" -}}
{{- printf "%s-tls" (include "telemetry-sidecar.webhookName" .) -}}
{{- end -}}

{{/* The Service's DNS names, which the serving certificate must carry. */}}
{{- define "telemetry-sidecar.webhookDnsNames" -}}
{{- $service := include "telemetry-sidecar.webhookName" . -}}
{{- $ns := .Release.Namespace -}}
{{- toJson (list $service (printf "%s.%s" $service $ns) (printf "%s.%s.svc" $service $ns) (printf "%s.%s.svc.cluster.local" $service $ns)) -}}
{{- end -}}

{{- define "telemetry-sidecar.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "telemetry-sidecar.sidecarImage" -}}
{{- $i := .Values.sidecar.image -}}
{{- printf "%s:%s" ($i.repository | default .Values.image.repository) ($i.tag | default .Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* native sidecars are on by default from Kubernetes 1.29; below that, a plain container. */}}
{{- define "telemetry-sidecar.sidecarMode" -}}
{{- if .Values.sidecar.mode -}}
{{- .Values.sidecar.mode -}}
{{- else if semverCompare ">=1.29-0" .Capabilities.KubeVersion.Version -}}
native
{{- else -}}
container
{{- end -}}
{{- end -}}

{{/*
The webhook's sidecar defaults file (INJECT_SIDECAR_DEFAULTS_FILE): values.sidecar
with the image and mode resolved. Its keys are the ones src/inject/settings.ts accepts.
*/}}
{{- define "telemetry-sidecar.sidecarDefaults" -}}
image: {{ include "telemetry-sidecar.sidecarImage" . | quote }}
imagePullPolicy: {{ .Values.sidecar.image.pullPolicy | default .Values.image.pullPolicy }}
mode: {{ include "telemetry-sidecar.sidecarMode" . }}
{{ toYaml (omit .Values.sidecar "image" "mode") }}
{{- end -}}
