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

{{/* Name of the webhook's TLS Secret (chart-generated or cert-manager's). */}}
{{- define "telemetry-sidecar.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "telemetry-sidecar.fullname" .) | trunc 63 | trimSuffix "-" -}}
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

{{/*
telemetry-sidecar.container renders the sidecar container as one list item, for
charts that add the sidecar themselves instead of using the webhook. It renders
what the webhook injects (src/inject/sidecar-container.ts); keep the two in step.
Argument: a dict with key "sidecar" shaped like this chart's values.sidecar
(image.repository and image.tag required; every other key has the same default).
In native mode (the default) put it under initContainers, else under containers:

  initContainers:
    {{- include "telemetry-sidecar.container" (dict "sidecar" .Values.telemetrySidecar) | nindent 4 }}
  volumes:
    {{- include "telemetry-sidecar.dataVolume" (dict "sidecar" .Values.telemetrySidecar) | nindent 4 }}
*/}}
{{- define "telemetry-sidecar.container" -}}
{{- $s := .sidecar | default (dict) -}}
{{- $img := $s.image | default (dict) -}}
{{- $res := $s.resources | default (dict) -}}
{{- $req := $res.requests | default (dict) -}}
{{- $lim := $res.limits | default (dict) -}}
{{- $http := int ($s.httpPort | default 9464) -}}
{{- $grpc := int ($s.grpcPort | default 50151) -}}
- name: telemetry-sidecar
  image: {{ printf "%s:%s" (required "sidecar.image.repository is required" $img.repository) (required "sidecar.image.tag is required" $img.tag) | quote }}
  imagePullPolicy: {{ $img.pullPolicy | default "IfNotPresent" }}
  {{- if ne ($s.mode | default "native") "container" }}
  restartPolicy: Always
  {{- end }}
  env:
    - name: SIDECAR_NODE_ID
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: SIDECAR_GRPC_ADDR
      value: {{ printf "127.0.0.1:%d" $grpc | quote }}
    - name: SIDECAR_HTTP_ADDR
      value: {{ printf "0.0.0.0:%d" $http | quote }}
    - name: SIDECAR_UPSTREAM
      value: {{ $s.upstream | default "file:/data/analytics-stats.ndjson" | quote }}
    - name: LOG_LEVEL
      value: {{ $s.logLevel | default "info" | quote }}
    {{- with $s.flushInterval }}
    - name: SIDECAR_FLUSH_INTERVAL
      value: {{ . | quote }}
    {{- end }}
    {{- if $s.grpcTokenSecret }}
    - name: SIDECAR_GRPC_TOKEN_FILE
      value: /var/run/secrets/telemetry-sidecar/token
    {{- end }}
    {{- with $s.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: {{ $s.portName | default "sidecar-metrics" }}
      containerPort: {{ $http }}
      protocol: TCP
  resources:
    requests:
      cpu: {{ $req.cpu | default "50m" | quote }}
      memory: {{ $req.memory | default "64Mi" | quote }}
    limits:
      cpu: {{ $lim.cpu | default "1" | quote }}
      memory: {{ $lim.memory | default "256Mi" | quote }}
  startupProbe:
    httpGet:
      path: /readyz
      port: {{ $http }}
      scheme: HTTP
    periodSeconds: 1
    timeoutSeconds: 2
    failureThreshold: 60
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ $http }}
      scheme: HTTP
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  securityContext:
    {{- if $s.securityContext }}
    {{- toYaml $s.securityContext | nindent 4 }}
    {{- else }}
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 1000
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities:
      drop:
        - ALL
    seccompProfile:
      type: RuntimeDefault
    {{- end }}
  volumeMounts:
    - name: telemetry-sidecar-data
      mountPath: /data
    {{- if $s.grpcTokenSecret }}
    - name: telemetry-sidecar-grpc-token
      mountPath: /var/run/secrets/telemetry-sidecar
      readOnly: true
    {{- end }}
{{- end -}}

{{/* The sidecar's volumes (data emptyDir, gRPC token Secret when set); pairs with telemetry-sidecar.container. */}}
{{- define "telemetry-sidecar.dataVolume" -}}
{{- $s := .sidecar | default (dict) -}}
- name: telemetry-sidecar-data
  emptyDir:
    sizeLimit: {{ $s.dataSizeLimit | default "1Gi" | quote }}
{{- with $s.grpcTokenSecret }}
- name: telemetry-sidecar-grpc-token
  secret:
    secretName: {{ . }}
    items:
      - key: token
        path: token
{{- end }}
{{- end -}}
